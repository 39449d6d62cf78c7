"""`python -m bench --quick` still runs every case and writes numbers for each (PostgreSQL cases
included, so it needs the server like the store tests do)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.plan import PLAN
from tests.conftest import _require_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_quick_mode_writes_every_case_with_numbers(tmp_path: Path) -> None:
    _require_postgres()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # every suite once at tiny sizes: 5-6 min alone, the closed loops run nights
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    payload = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    results = payload["results"]
    assert [(r["suite"], r["label"]) for r in results] == [(i.suite, i.label) for i in PLAN]
    for result in results:
        metrics = result["metrics"]
        assert "error" not in metrics, (result["label"], metrics)
        assert metrics["runs"] == 1
        assert isinstance(metrics["peak_rss_mib"], float) and metrics["peak_rss_mib"] > 0
        numbers = [v for k, v in metrics.items() if k != "runs" and isinstance(v, int | float)]
        assert len(numbers) >= 3, (result["label"], metrics)
        assert all(v == v for v in numbers), (result["label"], metrics)
        assert all("not measured" not in v for v in result["verdicts"].values())
    assert next(r for r in results if r["case"] == "api_latency")["metrics"]["errors"] == 0
    assert (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8").startswith("# Benchmarks")


def test_cases_picks_cases_within_the_suites(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "exploration", "--cases",
         "oracle_gap", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["results"]
    assert [r["case"] for r in results] == ["oracle_gap"]
    metrics = results[0]["metrics"]
    assert 0 <= metrics["gap_reachable_share_0.03"] <= 1
    for name in ("information", "information_net_of_calendar"):
        assert metrics[f"{name}_last_fit_median"] >= metrics[f"{name}_first_fit_median"]
    assert metrics["information_test_median"] > 0
    thirds = [
        [metrics[f"information_third_{i}_{name}"] for i in (1, 2, 3)]
        for name in ("entities", "median", "elasticity_error_if_information_limited")
    ]
    assert sum(thirds[0]) == 9  # a seed's entities, least information first
    assert thirds[1] == sorted(thirds[1])
    assert thirds[2] == sorted(thirds[2], reverse=True)
