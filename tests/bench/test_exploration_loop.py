"""Spend tests in the nightly closed loop, short: a simulated account that spends what each plan
says, its rows ingested the next night (the bench `exploration` suite runs 90 days x 5 seeds)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.suites.exploration import _HISTORY, _START, closed_loop
from optimizer.simulate import Scenario, simulate


@pytest.mark.parametrize("seed", [pytest.param(0, id="seed-0")])
def test_a_test_runs_inside_the_cap_and_its_read_out_moves_toward_the_truth(
    seed: int, tmp_path: Path
) -> None:
    arm = closed_loop(seed=seed, days=37, share=0.03, workdir=tmp_path, burn_in=0, steady=True)
    assert arm["over_budget_days"] == 0
    scored = [t for t in arm["experiments"] if t["status"] == "scored"]
    assert scored, arm["experiments"]
    truth = simulate(campaigns=2, keywords_per_campaign=4, days=_HISTORY, seed=seed,
                     start=_START, scenario=Scenario(spend_levels=(0.9, 1.1))).truth  # fmt: skip
    for test in scored:
        campaign, _, keyword = test["label"].partition(" / ")
        curve = next(
            c for k, c in truth.curves.items() if (k.campaign, k.keyword) == (campaign, keyword)
        )
        spend = test["base_micros"] / 1_000_000
        true_e = curve.shape / (1 + (spend / curve.k) ** curve.shape)
        read = test["readout"]
        assert abs(read["elasticity_after"] - true_e) < abs(read["elasticity_before"] - true_e)
        assert read["sd_after"] < read["sd_before"]
        assert (
            read["days_seen"]
            == (
                dt.date.fromisoformat(test["end_date"]) - dt.date.fromisoformat(test["start_date"])
            ).days
            + 1
        )
        assert 0 <= read["conversions_cost"] <= 5 * test["expected_cost"]
