"""Conversion lag: the profile, learning it from re-uploads, and fitting with it.

The simulator reports each day's conversions over the following weeks; an export shows only what
was reported by its last day. Fitted without the lag, the latest weeks read as a falling trend;
fitted with the profile learned from re-uploads, the trend and the forecast come back.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.models import fit_account
from optimizer.models.context import DayAxis, FitContext, Grain
from optimizer.models.lag import DEFAULT_LAG, NO_LAG, STILL_ARRIVING, LagProfile, learn_lag
from optimizer.simulate import ConversionLag, Scenario, Simulation, simulate

LAG = ConversionLag.typical(same_day=0.45, mean_days=8.0, horizon=45)


@pytest.fixture(scope="module")
def lagged() -> Simulation:
    return simulate(
        campaigns=4, keywords_per_campaign=6, days=150, seed=21, scenario=Scenario(lag=LAG)
    )


def snapshots(sim: Simulation, uploads: int = 8, every: int = 7, span: int = 35) -> pd.DataFrame:
    """What weekly uploads of the last `span` days said, per campaign and day."""
    end = sim.history["date"].max().date()
    parts = []
    for upload in range(uploads):
        as_of = end - dt.timedelta(days=every * (uploads - 1 - upload))
        totals = sim.export(as_of, last_days=span).groupby(["campaign", "date"])["conversions"]
        frame = totals.sum().reset_index()
        frame["as_of"] = pd.Timestamp(as_of)
        frame["upload"] = upload
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def test_learned_profile_matches_the_simulated_lag(lagged: Simulation) -> None:
    learned = learn_lag(snapshots(lagged))
    assert learned is not None and learned.source == "learned"
    for age in (0, 3, 7, 14):
        assert learned.share(age)[()] == pytest.approx(LAG.share(age)[()], abs=0.05)
    assert np.all(np.diff(learned.cumulative) >= 0) and learned.cumulative[-1] == 1.0


def test_too_few_re_observed_days_learn_nothing(lagged: Simulation) -> None:
    assert learn_lag(snapshots(lagged, uploads=1)) is None
    assert learn_lag(snapshots(lagged).iloc[:0]) is None


def test_uploads_that_never_grow_learn_no_lag() -> None:
    days = pd.date_range("2026-03-01", periods=30)
    rows = [
        {"campaign": "c", "date": d, "as_of": pd.Timestamp(a), "upload": u, "conversions": 10.0}
        for u, a in enumerate(["2026-03-30", "2026-04-06"])
        for d in days
        if d <= pd.Timestamp(a)
    ]
    learned = learn_lag(pd.DataFrame(rows))
    assert learned is not None
    assert learned.share(0)[()] == pytest.approx(1.0, abs=1e-6)
    assert learned.discounted_days() == 0


def _trend(sim: Simulation, context: FitContext | None) -> float:
    curves = fit_account(sim.history, context=context)
    return float(np.mean([c.tau * 365 for c in curves]))


def test_the_lag_is_not_read_as_a_falling_trend(lagged: Simulation) -> None:
    true = float(np.mean([e.trend_per_year for e in lagged.truth.campaigns.values()]))
    ignored = _trend(lagged, None)
    handled = _trend(lagged, FitContext(lag=learn_lag(snapshots(lagged))))
    assert ignored < true - 0.1
    assert abs(handled - true) < 0.08


def test_the_lag_profile_lifts_the_forecast_of_recent_days(lagged: Simulation) -> None:
    def forecast(context: FitContext | None) -> float:
        curves = fit_account(lagged.history, context=context)
        day = curves.window_end + dt.timedelta(days=1)
        return float(sum(c.expected(c.current_spend, day) for c in curves))

    assert forecast(FitContext(lag=LagProfile(LAG.cumulative, "report"))) > 1.03 * forecast(None)


@pytest.mark.parametrize(
    "shares",
    [(0.5, 0.4, 1.0), (0.0, 1.0), (0.5, 0.9), ()],
    ids=["falling", "zero", "not-ending-at-one", "empty"],
)
def test_bad_profiles_are_refused(shares: tuple[float, ...]) -> None:
    with pytest.raises(InvalidInputError):
        LagProfile(shares, "report")


def test_the_default_is_documented_and_described() -> None:
    assert DEFAULT_LAG.share(0)[()] == pytest.approx(0.6)
    assert DEFAULT_LAG.share(7)[()] > 0.8
    assert DEFAULT_LAG.share(40)[()] == 1.0
    text = DEFAULT_LAG.describe()
    assert "60% of a day's conversions on the day" in text
    assert f"the last {DEFAULT_LAG.discounted_days()} days are discounted" in text
    assert NO_LAG.discounted_days() == 0
    assert LagProfile.from_dict(DEFAULT_LAG.to_dict()) == DEFAULT_LAG


def _frozen_after(sim: Simulation, since: dt.date, window: int) -> tuple[pd.DataFrame, dict]:
    """The history as an account shows it that was backfilled once, then from `since` on sent its
    last `window` days every night: each later day keeps what it had when last sent."""
    end = sim.history["date"].max().date()
    keep = [sim.export(end).loc[lambda f: f["date"] < pd.Timestamp(since)]]
    reported = {}
    day = since
    while day <= end:
        last_sent = min(end, day + dt.timedelta(days=window - 1))
        rows = sim.export(last_sent, last_days=window)
        keep.append(rows[rows["date"] == pd.Timestamp(day)])
        reported[day] = last_sent
        day += dt.timedelta(days=1)
    return pd.concat(keep, ignore_index=True), reported


def test_a_day_no_upload_sent_again_keeps_the_share_it_had_then(lagged: Simulation) -> None:
    """A 14-day re-send window under a 45-day lag leaves every day older than 14 days short of its
    late conversions for good, after a backfill that had them all: counted to the export's end,
    that reads as a fall; counted to the day each was last sent, it does not."""
    end = lagged.history["date"].max().date()
    history, reported = _frozen_after(lagged, end - dt.timedelta(days=60), window=14)
    report = LagProfile(LAG.cumulative, "report")
    true = float(np.mean([e.trend_per_year for e in lagged.truth.campaigns.values()]))

    def trend(context: FitContext) -> float:
        curves = fit_account(history, context=context)
        return float(np.mean([c.tau * 365 for c in curves]))

    assert trend(FitContext(lag=report)) < true - 0.1
    assert abs(trend(FitContext(lag=report, reported=reported)) - true) < 0.08


@pytest.mark.parametrize(
    ("span", "warned"), [(14, True), (35, False)], ids=["14-day-window", "35-day-window"]
)
def test_a_learned_lag_still_growing_at_its_last_day_asks_for_a_longer_window(
    lagged: Simulation, span: int, warned: bool
) -> None:
    learned = learn_lag(snapshots(lagged, uploads=21, every=1, span=span))
    assert learned is not None and learned.horizon == span - 1
    assert (learned.still_arriving() >= STILL_ARRIVING) is warned
    assert ("send at least 30 days" in learned.describe()) is warned


@pytest.mark.parametrize(
    ("grain", "used"), [("day", True), ("week", False)], ids=["daily", "weekly"]
)
def test_last_sent_dates_count_on_daily_rows_only(grain: Grain, used: bool) -> None:
    """A weekly upload's last date is its last week's Monday, not the day it was made: its rows'
    ages stay counted to the export's end."""
    start = dt.date(2026, 1, 5)
    last = start + dt.timedelta(days=69)
    days = [start + dt.timedelta(days=d) for d in range(70)]
    reported = {d: min(last, d + dt.timedelta(days=13)) for d in days}
    report = LagProfile(LAG.cumulative, "report")
    plain = DayAxis.build(start, last, grain, FitContext(lag=report))
    known = DayAxis.build(start, last, grain, FitContext(lag=report, reported=reported))
    assert (not np.allclose(known.reported, plain.reported)) is used
