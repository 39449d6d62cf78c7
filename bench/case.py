"""Run one benchmark case in this process and print its metrics as JSON (for bench.__main__)."""

from __future__ import annotations

import json
import resource
import sys
import time

__all__ = ["main"]


def main(argv: list[str]) -> int:
    import bench.suites  # noqa: F401  (registers the cases)
    from bench.registry import CASES

    name, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    started = time.perf_counter()
    metrics = CASES[name](**kwargs)
    metrics.setdefault("wall_s", time.perf_counter() - started)
    metrics["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH-RESULT " + json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
