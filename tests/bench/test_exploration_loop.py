"""Spend tests in the nightly closed loop, short: a simulated account that spends what each plan
says, its rows ingested the next night. Whether read-outs move toward the truth is a statement
about many tests, not one (a keyword pooled with its campaign can move away): the bench
`exploration` suite counts it over 20 seeds (`readouts_closer_to_truth`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.suites.exploration import (
    _HISTORY,
    _START,
    _band_coverage,
    _information,
    _untested,
    closed_loop,
)
from optimizer.experiments import local_elasticity
from optimizer.models.curves import entity_id
from optimizer.schema import EntityKey
from optimizer.simulate import Scenario, simulate
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import make_engine


@pytest.mark.parametrize(
    "lagged", [pytest.param(False, id="complete-on-the-day"), pytest.param(True, id="late")]
)
def test_a_test_runs_inside_the_cap_and_is_read_out_against_the_truth(
    lagged: bool, tmp_path: Path
) -> None:
    seed = 0
    arm = closed_loop(
        seed=seed, days=37, share=0.03, workdir=tmp_path, burn_in=0, steady=True, lagged=lagged
    )
    assert arm["over_budget_days"] == 0
    scored = [t for t in arm["experiments"] if t["status"] == "scored"]
    assert scored, arm["experiments"]
    truth = simulate(campaigns=2, keywords_per_campaign=4, days=_HISTORY, seed=seed,
                     start=_START, scenario=Scenario(spend_levels=(0.9, 1.1))).truth  # fmt: skip
    assert len(arm["readout_errors"]) == len(scored)
    for test, (before, after, _) in zip(scored, arm["readout_errors"], strict=True):
        campaign, _, keyword = test["label"].partition(" / ")
        curve = next(
            c for k, c in truth.curves.items() if (k.campaign, k.keyword) == (campaign, keyword)
        )
        spend = test["base_micros"] / 1_000_000
        true_e = curve.shape / (1 + (spend / curve.k) ** curve.shape)
        read = test["readout"]
        assert before == pytest.approx(abs(read["elasticity_before"] - true_e))
        assert after == pytest.approx(abs(read["elasticity_after"] - true_e))
        assert read["sd_after"] < read["sd_before"]
        assert (
            read["days_seen"]
            == (
                dt.date.fromisoformat(test["end_date"]) - dt.date.fromisoformat(test["start_date"])
            ).days
            + 1
        )
        assert 0 <= read["conversions_cost"] <= 5 * test["expected_cost"]
    bands = arm["readout_bands"]
    assert [b["entity_id"] for b in bands] == [t["entity_id"] for t in scored]
    same_arm = _untested(tmp_path / "store.db", bands)
    assert [sd for _, sd in same_arm] == pytest.approx([b["sd_after"] for b in bands])
    assert [e for e, _ in same_arm] == pytest.approx([b["elasticity_after"] for b in bands])


def test_band_coverage_scores_every_entity_at_its_current_spend_against_the_truth(
    tmp_path: Path,
) -> None:
    seed = 1
    closed_loop(seed=seed, days=2, share=0.0, workdir=tmp_path, burn_in=0, steady=True)
    truth = simulate(campaigns=2, keywords_per_campaign=4, days=_HISTORY, seed=seed,
                     start=_START, scenario=Scenario(spend_levels=(0.9, 1.1))).truth  # fmt: skip
    first = _band_coverage(tmp_path / "store.db", truth, every=100)
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as connection:
        fitted = load_curve_set(connection, 1, 1).curve_set
    engine.dispose()
    by_name = {(k.campaign, k.keyword): c for k, c in truth.curves.items()}
    expected = []
    for curve in fitted:
        spend = curve.current_spend
        true = by_name[(curve.key.campaign, curve.key.keyword)]
        e, sd = local_elasticity(curve, spend, fitted.band_scale)
        expected.append((e - true.shape / (1 + (spend / true.k) ** true.shape), sd))
    assert len(first) == len(expected) == len(truth.curves)
    assert [v for pair in first for v in pair] == pytest.approx(
        [v for pair in expected for v in pair]
    )
    assert len(_band_coverage(tmp_path / "store.db", truth, every=1)) == 2 * len(expected)


def test_the_gap_to_the_oracle_is_split_over_entities_and_sums_to_it(tmp_path: Path) -> None:
    seed = 2
    arm = closed_loop(seed=seed, days=4, share=0.0, workdir=tmp_path, burn_in=1, steady=True)
    losses = arm["losses"]
    assert len(losses) == 3 * 9  # three scored days, nine entities
    assert all(loss >= -1e-6 for _, loss, _, _ in losses)
    gap = arm["oracle_conversions"] - arm["true_conversions"]
    assert gap > 0
    assert sum(loss for _, loss, _, _ in losses) == pytest.approx(gap, rel=1e-6)
    days = {total for _, _, _, total in losses}
    assert sum(spend for _, _, spend, _ in losses) == pytest.approx(sum(days))


def _rows(keyword: str, spends: list[float], conversions: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range("2026-01-05", periods=len(spends)).date,
            "campaign": "Search",
            "ad_group": "Shoes",
            "keyword": keyword,
            "match_type": "exact",
            "spend": spends,
            "conversions": conversions,
        }
    )


def test_information_is_the_poisson_fisher_information_about_the_elasticity() -> None:
    moved = _rows("moved", [10.0, 20.0, 0.0, 40.0], [1.0, 3.0, 0.0, 2.0])
    steady = _rows("steady", [15.0] * 4, [2.0, 1.0, 0.0, 3.0])
    information = _information(pd.concat([moved, steady]))
    log_spend = np.log([10.0, 20.0, 40.0])
    weights = np.array([1.0, 3.0, 2.0])
    centre = weights @ log_spend / weights.sum()
    moved_id, steady_id = (
        entity_id(EntityKey("Search", "Shoes", k, "exact")) for k in ("moved", "steady")
    )
    conversions, raw, _ = information[moved_id]
    assert (conversions, raw) == pytest.approx((1.5, weights @ (log_spend - centre) ** 2))
    assert information[steady_id] == pytest.approx((1.5, 0.0, 0.0))


def test_a_move_the_trend_explains_carries_no_information_net_of_the_calendar() -> None:
    days = 56
    ramp = _rows("ramp", list(np.geomspace(10, 30, days)), [2.0] * days)
    alternating = [10.0 * (1.3 if (d // 7) % 2 == 0 else 0.7) for d in range(days)]
    blocks = _rows("blocks", alternating, [2.0] * days)
    information = _information(pd.concat([ramp, blocks]))
    ramp_id, blocks_id = (
        entity_id(EntityKey("Search", "Shoes", k, "exact")) for k in ("ramp", "blocks")
    )
    _, raw, net = information[ramp_id]
    assert raw > 10 and net == pytest.approx(0.0, abs=1e-9)
    _, raw, net = information[blocks_id]
    assert net > 0.8 * raw > 0


def test_information_never_falls_as_days_are_added() -> None:
    rng = np.random.default_rng(7)
    spends = rng.uniform(5, 50, 60).round(2).tolist()
    conversions = rng.poisson(2, 60).astype(float).tolist()
    growing = [
        next(iter(_information(_rows("kw", spends[:n], conversions[:n])).values()))[1:]
        for n in range(10, 61, 10)
    ]
    for column in (0, 1):
        series = [values[column] for values in growing]
        assert series == sorted(series)
        assert series[-1] > series[0]
