"""`make bench`: run the benchmark suites, write BENCHMARKS.md and bench/results.json.

Every case runs in a fresh subprocess (peak memory is that process's own), repeated, and the
median is reported next to its target. `--quick` runs tiny sizes once, to check the suite
still works (CI).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.machine import describe_machine
from bench.plan import PLAN, BenchItem

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def _run_case(item: BenchItem, quick: bool) -> dict[str, Any]:
    kwargs = dict(item.quick_kwargs if quick else item.kwargs)
    kwargs.setdefault("workdir", str(OUT))
    runs: list[dict[str, Any]] = []
    for _ in range(1 if quick else item.repeats):
        proc = subprocess.run(
            [sys.executable, "-m", "bench.case", item.case, json.dumps(kwargs)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")), None)
        if proc.returncode != 0 or line is None:
            return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
        runs.append(json.loads(line.removeprefix("BENCH-RESULT ")))
    merged: dict[str, Any] = {"runs": len(runs)}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if all(isinstance(v, int | float) for v in values):
            merged[key] = max(values) if key == "peak_rss_mib" else statistics.median(values)
        else:
            merged[key] = values[0]
    return merged


def _check(item: BenchItem, metrics: dict[str, Any]) -> list[str]:
    verdicts = []
    for metric, op, bound, text in item.targets:
        value = metrics.get(metric)
        if value is None:
            verdicts.append(f"{text}: not measured")
            continue
        ok = value >= bound if op == ">=" else value <= bound
        verdicts.append(f"{text}: {'met' if ok else 'MISSED'}")
    return verdicts


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _write_markdown(results: list[dict[str, Any]], machine: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}`.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        "Each figure is the median of the runs shown (peak memory: the largest), "
        "every run in a fresh",
        "process. Targets come from the issues; ratios compare cases measured in the same run.",
        "",
    ]
    suite = None
    for result in results:
        if result["suite"] != suite:
            suite = result["suite"]
            lines += [f"## {suite}", ""]
        lines.append(f"### {result['label']}")
        lines.append("")
        lines.append("| metric | value |")
        lines.append("|---|---|")
        for key, value in result["metrics"].items():
            lines.append(f"| {key} | {_format(value)} |")
        for verdict in result["verdicts"]:
            lines.append(f"| target | {verdict} |")
        if result.get("note"):
            lines += ["", result["note"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each (CI)")
    parser.add_argument("--only", nargs="*", default=None, help="suites to run (default all)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write files")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    machine = describe_machine()
    results = []
    for item in PLAN:
        if args.only and item.suite not in args.only:
            continue
        print(f"[bench] {item.suite}: {item.label} ...", flush=True)
        metrics = _run_case(item, args.quick)
        verdicts = [] if args.quick else _check(item, metrics)
        print(f"[bench]   {metrics} {verdicts}", flush=True)
        results.append(
            {
                "suite": item.suite,
                "label": item.label,
                "metrics": metrics,
                "verdicts": verdicts,
                "note": item.note,
            }
        )
    failed = [r for r in results if "error" in r["metrics"]]
    command = "make bench" + (" (quick)" if args.quick else "")
    if not args.no_write and not args.quick:
        (ROOT / "BENCHMARKS.md").write_text(_write_markdown(results, machine, command))
        payload = {"date": dt.date.today().isoformat(), "machine": machine, "results": results}
        (ROOT / "bench" / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
