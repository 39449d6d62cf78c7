"""Curves are the same bits wherever they are fitted, whatever the machine's BLAS thread count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from optimizer.models import FitOptions
from optimizer.models import engines as engines_module
from optimizer.models.account import plan_campaigns
from optimizer.models.engines import LocalEngine
from optimizer.simulate import Simulation

_ROOT = Path(__file__).resolve().parents[3]


def test_each_work_unit_runs_under_one_blas_thread(
    small_sim: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = engines_module.fit_campaign

    def probe(task, options):  # type: ignore[no-untyped-def]
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas, "no BLAS library is loaded"
        seen.extend(blas)
        return real(task, options)

    monkeypatch.setattr(engines_module, "fit_campaign", probe)
    tasks = list(plan_campaigns(small_sim.history).tasks())
    list(LocalEngine(n_jobs=1).map(tasks, FitOptions(bootstrap=2)))
    assert seen and set(seen) == {1}


def _digests(threads: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    done = subprocess.run(
        [sys.executable, "-m", "tests.optimizer.models.fit_digest_child"],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    digests: dict[str, str] = json.loads(done.stdout)
    return digests


@pytest.mark.slow
def test_curves_are_equal_bit_for_bit_across_engines_and_blas_threads() -> None:
    runs = {
        label: _digests(threads)
        for label, threads in (("unset", None), ("1-thread", "1"), ("2-threads", "2"))
    }
    every = {(label, engine): d for label, run in runs.items() for engine, d in run.items()}
    assert len(every) == 9
    assert len(set(every.values())) == 1, every
