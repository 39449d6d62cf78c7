"""The simulator's real-world effects: each off by default, each shaped as an account shows it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.schema import NAME_COLUMNS, EntityKey
from optimizer.simulate import simulate
from optimizer.simulate.scenario import LOST_IS_BUDGET_COLUMN, Scenario
from optimizer.simulate.truth import (
    ConversionLag,
    TrueEvent,
    Truth,
    expected_conversions,
    true_elasticity,
)

SIZE = {"campaigns": 4, "keywords_per_campaign": 8, "days": 150}
LAG = ConversionLag.typical(same_day=0.5, mean_days=6.0, horizon=40)


def _daily(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.groupby("date")[column].sum()


def _entity(frame: pd.DataFrame, key: EntityKey) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for name in NAME_COLUMNS:
        mask &= (frame[name] == getattr(key, name)).to_numpy()
    return frame.loc[mask]


@pytest.fixture(scope="module")
def lagged():
    return simulate(**SIZE, seed=3, scenario=Scenario(lag=LAG))


def test_an_empty_scenario_draws_the_plain_account():
    plain = simulate(**SIZE, seed=8)
    same = simulate(**SIZE, seed=8, scenario=Scenario())
    pd.testing.assert_frame_equal(plain.history, same.history)
    assert plain.truth == same.truth


def test_lag_leaves_spend_and_clicks_alone_and_under_reports_recent_days(lagged):
    plain = simulate(**SIZE, seed=3)
    pd.testing.assert_series_equal(_daily(lagged.history, "spend"), _daily(plain.history, "spend"))
    pd.testing.assert_series_equal(
        _daily(lagged.history, "clicks"), _daily(plain.history, "clicks")
    )
    reported = _daily(lagged.history, "conversions")
    final = _daily(plain.history, "conversions")
    old = reported.index < reported.index.max() - pd.Timedelta(days=LAG.horizon)
    pd.testing.assert_series_equal(reported[old], final[old])
    recent = reported.iloc[-7:].sum() / final.iloc[-7:].sum()
    expected = float(np.mean(LAG.share(np.arange(7))))
    assert recent == pytest.approx(expected, abs=0.08)


def test_re_exports_only_raise_conversions_of_days_already_seen(lagged):
    end = lagged.history["date"].max().date()
    early = lagged.export(end - dt.timedelta(days=14), last_days=30)
    later = lagged.export(end - dt.timedelta(days=7), last_days=30)
    keys = ["date", *NAME_COLUMNS]
    both = early.merge(later, on=keys, suffixes=("_early", "_later"))
    assert len(both) == 23 * (len(lagged.truth.curves))
    assert (both["conversions_later"] >= both["conversions_early"]).all()
    assert (both["conversions_later"] > both["conversions_early"]).any()
    assert (both["spend_later"] == both["spend_early"]).all()
    assert early["date"].min() == pd.Timestamp(end - dt.timedelta(days=14 + 29))


def test_the_measured_reporting_share_follows_the_lag(lagged):
    end = lagged.history["date"].max().date()
    complete = _daily(lagged.export(end), "conversions")
    earlier = _daily(lagged.export(end - dt.timedelta(days=60)), "conversions")
    young = earlier.iloc[-3:].sum() / complete.loc[earlier.index[-3:]].sum()
    assert young == pytest.approx(float(np.mean(LAG.share(np.arange(3)))), abs=0.1)


def test_events_multiply_conversions_on_their_days_only():
    start = dt.date(2026, 4, 1)
    promo = TrueEvent(start, start + dt.timedelta(days=13), "promo", 1.6)
    outage = TrueEvent(start + dt.timedelta(days=30), start + dt.timedelta(days=33), "outage", 0.0)
    plain = _daily(simulate(**SIZE, seed=4).history, "conversions")
    eventful = simulate(**SIZE, seed=4, scenario=Scenario(events=(promo, outage)))
    daily = _daily(eventful.history, "conversions")
    window = (daily.index >= pd.Timestamp(promo.start)) & (daily.index <= pd.Timestamp(promo.end))
    assert daily[window].sum() / plain[window].sum() == pytest.approx(1.6, rel=0.15)
    dark = (daily.index >= pd.Timestamp(outage.start)) & (daily.index <= pd.Timestamp(outage.end))
    assert daily[dark].sum() == 0
    assert eventful.truth.event_factor(start) == 1.6
    assert eventful.truth.event_factor(start - dt.timedelta(days=1)) == 1.0


def test_s_shaped_keywords_have_increasing_returns_below_their_inflection():
    sim = simulate(**SIZE, seed=5, scenario=Scenario(s_shaped_share=0.4))
    curves = list(sim.truth.curves.values())
    s_shaped = [c for c in curves if c.s_shaped]
    keywords = [c for c in curves if not c.key.is_campaign_level]
    assert 0.2 < len(s_shaped) / len(keywords) < 0.6
    assert all(not c.key.is_campaign_level and 1.5 <= c.shape <= 3.0 for c in s_shaped)
    curve = s_shaped[0]
    x = np.linspace(0.05, 0.5, 10) * curve.k
    average = curve.vmax * (x / curve.k) ** curve.shape / (1 + (x / curve.k) ** curve.shape) / x
    assert np.all(np.diff(average) > 0)


def test_budget_limited_entities_spend_their_budget_and_lose_impression_share():
    sim = simulate(
        **SIZE, seed=6, scenario=Scenario(budget_limited_campaigns=1, impression_share=True)
    )
    history = sim.history
    limited = [c for c in sim.truth.curves.values() if c.budget_limited]
    assert limited and len({c.key.campaign for c in limited}) == 1
    last = history["date"] >= history["date"].max() - pd.Timedelta(days=27)
    for curve in limited:
        rows = _entity(history.loc[last], curve.key)
        assert rows["spend"].std() / rows["spend"].mean() < 0.03
        assert rows["spend"].mean() == pytest.approx(curve.daily_budget, rel=0.02)
        assert rows[LOST_IS_BUDGET_COLUMN].mean() > 0.15
    others = history.loc[~history["campaign"].isin({c.key.campaign for c in limited})]
    assert (others[LOST_IS_BUDGET_COLUMN] == 0).all()
    plain = simulate(**SIZE, seed=6, scenario=Scenario(budget_limited_campaigns=1)).history
    assert LOST_IS_BUDGET_COLUMN not in plain.columns
    pd.testing.assert_series_equal(plain["spend"], history["spend"])


def test_auction_accounts_convert_a_steady_share_of_many_clicks():
    sim = simulate(**SIZE, seed=7, scenario=Scenario(auction=True))
    totals = sim.history.groupby(list(NAME_COLUMNS), sort=False)[["clicks", "conversions"]].sum()
    rate = {key: c.conversion_rate for key, c in sim.truth.curves.items()}
    ratio = totals["clicks"].sum() / totals["conversions"].sum()
    assert 10 < ratio < 50
    busy = totals[totals["conversions"] > 200]
    for names, row in busy.iterrows():
        assert row["conversions"] / row["clicks"] == pytest.approx(
            rate[EntityKey(*names)], rel=0.15
        )


@pytest.mark.parametrize(("grain", "step"), [("week", 7), ("month", None)], ids=["week", "month"])
def test_period_grain_sums_whole_periods(grain, step):
    daily = simulate(**SIZE, seed=9).history
    coarse = simulate(**SIZE, seed=9, scenario=Scenario(grain=grain)).history
    dates = pd.Series(coarse["date"].unique())
    if step is not None:
        assert set(dates.diff().dropna().dt.days) == {step}
        assert (dates.dt.day_of_week == 0).all()
    else:
        assert (dates.dt.day == 1).all()
    first = dates.min()
    last = dates.max() + (pd.Timedelta(days=6) if step else pd.offsets.MonthEnd(0))
    inside = (daily["date"] >= first) & (daily["date"] <= last)
    assert coarse["spend"].sum() == pytest.approx(daily.loc[inside, "spend"].sum())
    assert coarse["conversions"].sum() == daily.loc[inside, "conversions"].sum()


def test_truth_with_every_effect_round_trips_through_json():
    event = TrueEvent(dt.date(2026, 3, 1), dt.date(2026, 3, 5), "promo", 1.4)
    sim = simulate(
        **SIZE,
        seed=2,
        scenario=Scenario(
            lag=LAG,
            events=(event,),
            s_shaped_share=0.3,
            budget_limited_campaigns=1,
            auction=True,
            grain="week",
        ),
    )
    again = Truth.from_json(sim.truth.to_json())
    assert again == sim.truth
    assert again.lag == LAG and again.events == (event,) and again.grain == "week"


def test_volume_multiplies_conversions_at_the_same_spend():
    plain = simulate(**SIZE, seed=5, scenario=Scenario(spend_levels=(0.9, 1.1)))
    more = simulate(**SIZE, seed=5, scenario=Scenario(spend_levels=(0.9, 1.1), volume=5.0))
    pd.testing.assert_series_equal(_daily(plain.history, "spend"), _daily(more.history, "spend"))
    ratio = more.history["conversions"].sum() / plain.history["conversions"].sum()
    assert 4.5 < ratio < 5.5
    assert (more.history["clicks"] >= more.history["conversions"]).all()
    for key, curve in plain.truth.curves.items():
        assert more.truth.curves[key].vmax == pytest.approx(5.0 * curve.vmax)
        assert more.truth.curves[key].k == curve.k


def _elasticity_spread(share: float, seed: int) -> tuple[float, float]:
    """Mean within-campaign and account-wide sd of the keywords' true elasticities at their mean
    spend."""
    sim = simulate(
        campaigns=12,
        keywords_per_campaign=4,
        days=60,
        seed=seed,
        scenario=Scenario(campaign_shapes=share),
    )
    spend = sim.history.groupby(list(NAME_COLUMNS), sort=False)["spend"].mean()
    rows = []
    for key, curve in sim.truth.curves.items():
        if key.is_campaign_level:
            continue
        x = float(spend[tuple(getattr(key, n) for n in NAME_COLUMNS)])
        rows.append((key.campaign, true_elasticity(curve, x)))
    frame = pd.DataFrame(rows, columns=["campaign", "elasticity"])
    within = float(frame.groupby("campaign")["elasticity"].std().mean())
    return within, float(frame["elasticity"].std())


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed-1", "seed-2", "seed-3"])
def test_campaign_shapes_make_a_campaigns_keywords_bend_alike(seed):
    alike, across = _elasticity_spread(1.0, seed)
    own, own_across = _elasticity_spread(0.0, seed)
    assert alike < 0.4 * across
    assert alike < 0.4 * own
    assert own > 0.6 * own_across
    half, _ = _elasticity_spread(0.5, seed)
    assert alike < half < own


def test_campaign_shapes_keep_spend_and_the_cost_per_conversion_at_the_typical_spend():
    levels = (0.9, 1.1)
    plain = simulate(**SIZE, seed=4, scenario=Scenario(spend_levels=levels))
    alike = simulate(**SIZE, seed=4, scenario=Scenario(spend_levels=levels, campaign_shapes=1.0))
    pd.testing.assert_frame_equal(plain.history[["date", *NAME_COLUMNS, "spend"]],
                                  alike.history[["date", *NAME_COLUMNS, "spend"]])  # fmt: skip
    spend = plain.history.groupby(list(NAME_COLUMNS), sort=False)["spend"].mean()
    changed = 0
    for key, curve in plain.truth.curves.items():
        other = alike.truth.curves[key]
        x = float(spend[tuple(getattr(key, n) for n in NAME_COLUMNS)])
        before, after = expected_conversions(curve, x), expected_conversions(other, x)
        assert after == pytest.approx(before, rel=0.1)
        if key.is_campaign_level:
            assert other == curve
        changed += other.shape != curve.shape
    assert changed == sum(not key.is_campaign_level for key in plain.truth.curves)


@pytest.mark.parametrize(
    "bad",
    [
        {"s_shaped_share": 1.5},
        {"budget_limited_campaigns": -1},
        {"grain": "hour"},
        {"volume": 0.0},
        {"volume": float("nan")},
        {"campaign_shapes": -0.1},
        {"campaign_shapes": float("nan")},
    ],
    ids=[
        "share-above-one",
        "negative-campaigns",
        "unknown-grain",
        "no-volume",
        "nan-volume",
        "negative-campaign-shapes",
        "nan-campaign-shapes",
    ],
)
def test_bad_scenarios_are_refused(bad):
    with pytest.raises(InvalidInputError):
        Scenario(**bad)


def test_more_budget_limited_campaigns_than_campaigns_is_refused():
    with pytest.raises(InvalidInputError):
        simulate(**SIZE, seed=1, scenario=Scenario(budget_limited_campaigns=9))


@pytest.mark.parametrize(
    "lag",
    [(0.5, 0.4, 1.0), (0.0, 1.0), (0.5, 0.9)],
    ids=["falling", "zero-share", "not-ending-at-one"],
)
def test_bad_lags_are_refused(lag):
    with pytest.raises(InvalidInputError):
        ConversionLag(lag)
