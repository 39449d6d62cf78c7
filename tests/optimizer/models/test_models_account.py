"""fit_account end to end: parallel equals serial, progress, skipped entities, and the numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.models import CurveSet, FitOptions, fit_account
from optimizer.models.account import AccountWindow, fit_account_slices
from optimizer.schema import NAME_COLUMNS, EntityKey
from optimizer.simulate import Simulation


def test_two_jobs_give_the_same_curves_as_one(small_sim: Simulation, small_fit: CurveSet) -> None:
    seen: list[tuple[int, int]] = []
    parallel = fit_account(
        small_sim.history, n_jobs=2, progress=lambda done, total: seen.append((done, total))
    )
    assert parallel.curves == small_fit.curves
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (len(small_fit), len(small_fit))


def test_every_entity_gets_a_graded_curve(small_sim: Simulation, small_fit: CurveSet) -> None:
    keys = set(small_sim.truth.keys)
    assert {c.key for c in small_fit} == keys
    for curve in small_fit:
        d = curve.diagnostics
        assert d.grade in ("A", "B", "C")
        assert d.reason.startswith(f"{d.grade}: ")
        assert d.family == curve.lookup_name and d.params == curve.params
        assert set(d.family_deviance) <= set(FitOptions().families)


def test_keywordless_campaigns_are_their_own_unpooled_entity(small_fit: CurveSet) -> None:
    keywordless = [c for c in small_fit if c.key.is_campaign_level]
    assert keywordless
    for curve in keywordless:
        assert curve.diagnostics.pooled == "none"
        assert curve.diagnostics.campaign_family == ""


def test_trust_region_current_spend_and_reference(
    small_sim: Simulation, small_fit: CurveSet
) -> None:
    history = small_sim.history
    end = history["date"].max()
    for curve in small_fit.curves[:5]:
        own = history[
            (history["campaign"] == curve.key.campaign)
            & (history["keyword"] == curve.key.keyword)
            & (history["ad_group"] == curve.key.ad_group)
            & (history["match_type"] == curve.key.match_type)
        ]
        spend = own.loc[own["spend"] > 0, "spend"]
        assert curve.spend_min_obs == spend.min() and curve.spend_max_obs == spend.max()
        assert curve.trust_low == pytest.approx(0.5 * spend.min())
        assert curve.trust_high == pytest.approx(1.5 * spend.max())
        recent = own[own["date"] > end - pd.Timedelta(days=7)]
        assert curve.current_spend == pytest.approx(recent["spend"].sum() / 7)
        assert curve.reference_date == end.date()


def _first_keyword(history: pd.DataFrame) -> pd.Series:
    key = history.loc[history["keyword"] != "", list(NAME_COLUMNS)].iloc[0]
    return (history[list(NAME_COLUMNS)] == key).all(axis=1)


def test_entities_without_spend_are_skipped_with_a_reason(small_sim: Simulation) -> None:
    history = small_sim.history.copy()
    silent = _first_keyword(history)
    history.loc[silent, ["spend", "conversions", "conversion_value"]] = 0.0
    curves = fit_account(history, FitOptions(bootstrap=5))
    assert len(curves.skipped) == 1
    assert "no spend" in curves.skipped[0].reason
    assert curves.skipped[0].key not in {c.key for c in curves}


def test_value_per_conversion_shrinks_toward_the_campaign(small_sim: Simulation) -> None:
    history = small_sim.history.copy()
    history["conversion_value"] = history["conversions"] * 40.0
    target = _first_keyword(history)
    history.loc[target, "conversion_value"] = history.loc[target, "conversions"] * 400.0
    curves = fit_account(history, FitOptions(bootstrap=5))
    key = EntityKey(*history.loc[target, list(NAME_COLUMNS)].iloc[0])
    boosted = curves.get(key).value_per_conversion
    conversions = history.loc[target, "conversions"].sum()
    assert 40.0 < boosted < 400.0
    assert boosted == pytest.approx(
        (400.0 * conversions + 10 * 40.0) / (conversions + 10), rel=0.05
    )


def test_options_change_the_fit_deterministically(small_sim: Simulation) -> None:
    options = dataclasses.replace(FitOptions(), bootstrap=8, seed=3, families=("power",))
    first = fit_account(small_sim.history, options)
    again = fit_account(small_sim.history, options)
    assert first.curves == again.curves
    assert {c.lookup_name for c in first} == {"power"}
    assert all(len(c.band_spend) == options.band_points for c in first)
    assert np.isfinite([c.params["a"] for c in first]).all()


def _window(history: pd.DataFrame, entities: int) -> AccountWindow:
    return AccountWindow(
        start=history["date"].min().date(),
        end=history["date"].max().date(),
        value_per_conversion=float(history["conversion_value"].sum())
        / float(history["conversions"].sum()),
        entities=entities,
    )


def test_slices_of_whole_campaigns_give_the_same_curves(
    small_sim: Simulation, small_fit: CurveSet
) -> None:
    history = small_sim.history
    campaigns = sorted(history["campaign"].unique())
    slices = [history[history["campaign"] == c] for c in campaigns]
    seen: list[tuple[int, int]] = []
    sliced = fit_account_slices(
        slices,
        _window(history, len(small_fit)),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert len(slices) > 1
    assert sliced.curves == small_fit.curves
    assert (sliced.window_start, sliced.window_end) == (
        small_fit.window_start,
        small_fit.window_end,
    )
    assert seen[-1] == (len(small_fit), len(small_fit))


@pytest.mark.parametrize("broken", ["reversed", "split-campaign"], ids=["reversed", "split"])
def test_slices_out_of_order_or_splitting_a_campaign_are_refused(
    small_sim: Simulation, broken: str
) -> None:
    history = small_sim.history
    campaigns = sorted(history["campaign"].unique())
    if broken == "reversed":
        slices = [history[history["campaign"] == c] for c in reversed(campaigns)]
    else:
        first = history[history["campaign"] == campaigns[0]]
        slices = [first.iloc[: len(first) // 2], first.iloc[len(first) // 2 :]]
    with pytest.raises(InvalidInputError, match="whole campaigns in name order"):
        fit_account_slices(slices, _window(history, 1))
