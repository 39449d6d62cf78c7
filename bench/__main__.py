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
from bench.plan import MEMORY_TARGET_MIB, PLAN, BenchItem, Target

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "out"
_MEMORY = f"every process <= {MEMORY_TARGET_MIB / 1024:g} GiB resident"


def _run_case(item: BenchItem, quick: bool, workdir: Path) -> dict[str, Any]:
    kwargs = dict(item.quick_kwargs if quick else item.kwargs)
    kwargs.setdefault("workdir", str(workdir))
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
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            return {"error": tail[0] if tail else f"exit status {proc.returncode}"}
        runs.append(json.loads(line.removeprefix("BENCH-RESULT ")))
    merged: dict[str, Any] = {"runs": len(runs)}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if all(isinstance(v, int | float) for v in values):
            merged[key] = max(values) if key.endswith("peak_rss_mib") else statistics.median(values)
        else:
            merged[key] = values[0]
    return merged


def _targets(item: BenchItem, metrics: dict[str, Any]) -> list[Target]:
    memory = [
        (key, "<=", MEMORY_TARGET_MIB, _MEMORY) for key in metrics if key.endswith("peak_rss_mib")
    ]
    return [*item.targets, *memory]


def _check(targets: list[Target], metrics: dict[str, Any]) -> dict[str, str]:
    """Each target's metric -> 'target: met' / 'target: MISSED' / 'target: not measured'."""
    verdicts: dict[str, str] = {}
    for metric, op, bound, text in targets:
        value = metrics.get(metric)
        if not isinstance(value, int | float):
            verdicts[metric] = f"{text}: not measured"
            continue
        ok = value >= bound if op == ">=" else value <= bound
        verdicts[metric] = f"{text}: {'met' if ok else 'MISSED'}"
    return verdicts


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.2e}"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _write_markdown(
    results: list[dict[str, Any]], machine: dict[str, str], command: str, started: str
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {started} (UTC) with `{command}`; written by `python -m bench`.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        "Every run is a fresh process. Each figure is the median of the runs shown (peak memory: "
        "the largest);",
        "the largest cases run once. Other processes shared the cores, so compare ratios within "
        "this run,",
        "not across machines. `peak_rss_mib` is the case process, `workers_peak_rss_mib` its "
        "largest pool or",
        f"cluster worker, `server_peak_rss_mib` the largest API server process; the memory "
        f"target is {_MEMORY}.",
        "",
    ]
    suite = None
    for result in results:
        if result["suite"] != suite:
            suite = result["suite"]
            lines += [f"## {suite}", ""]
        lines += [f"### {result['label']}", "", f"runs: {result['metrics'].get('runs', 0)}", ""]
        lines += ["| metric | value | target |", "|---|---|---|"]
        verdicts = result["verdicts"]
        for key, value in result["metrics"].items():
            if key != "runs":
                lines.append(f"| {key} | {_format(value)} | {verdicts.get(key, '')} |")
        for key, verdict in verdicts.items():
            if key not in result["metrics"]:
                lines.append(f"| {key} | - | {verdict} |")
        if result.get("note"):
            lines += ["", result["note"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each (CI)")
    parser.add_argument("--only", nargs="*", default=None, help="suites to run (default all)")
    parser.add_argument(
        "--cases", nargs="*", default=None, help="cases to run within them (default all)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write BENCHMARKS.md and results.json here (default: the repository root and "
        "bench/; bench/out/quick with --quick)",
    )
    args = parser.parse_args(argv)
    if args.out is not None:
        markdown, payload_path = args.out / "BENCHMARKS.md", args.out / "results.json"
        workdir = args.out / "work"
    elif args.quick:
        markdown = WORK / "quick" / "BENCHMARKS.md"
        payload_path = WORK / "quick" / "results.json"
        workdir = WORK / "quick" / "work"
    else:
        markdown, payload_path, workdir = (
            ROOT / "BENCHMARKS.md",
            ROOT / "bench" / "results.json",
            WORK,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    machine = describe_machine()
    results = []
    seen: dict[str, dict[str, Any]] = {}
    for item in PLAN:
        if (args.only and item.suite not in args.only) or (
            args.cases and item.case not in args.cases
        ):
            continue
        print(f"[bench] {item.suite}: {item.label} ...", flush=True)
        # Quick mode shrinks several sizes to the same case; running it once is enough there.
        key = json.dumps([item.case, item.quick_kwargs if args.quick else item.kwargs])
        if args.quick and key in seen:
            metrics = seen[key]
        else:
            metrics = seen[key] = _run_case(item, args.quick, workdir)
        verdicts = _check(_targets(item, metrics), metrics)
        print(f"[bench]   {metrics} {list(verdicts.values())}", flush=True)
        results.append(
            {
                "suite": item.suite,
                "label": item.label,
                "case": item.case,
                "kwargs": item.quick_kwargs if args.quick else item.kwargs,
                "metrics": metrics,
                "verdicts": verdicts,
                "note": item.note,
            }
        )
    command = "make bench" + (
        f" BENCH_ARGS='{' '.join(argv or sys.argv[1:])}'" if (argv or sys.argv[1:]) else ""
    )
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(_write_markdown(results, machine, command, started))
    payload = {"started": started, "command": command, "machine": machine, "results": results}
    payload_path.write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if any("error" in r["metrics"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
