"""The live account a closed loop spends into: days drawn at the plan's spend, exported late."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.simulate import simulate
from optimizer.simulate.live import as_exported, day_rows
from optimizer.simulate.truth import ConversionLag

LAG = ConversionLag.typical(same_day=0.5, mean_days=5.0, horizon=30)
FIRST = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def complete() -> pd.DataFrame:
    sim = simulate(campaigns=2, keywords_per_campaign=3, days=10, seed=4)
    spends = {key: 150.0 for key in sim.truth.curves}
    days = [FIRST + dt.timedelta(days=i) for i in range(20)]
    return pd.concat([day_rows(sim.truth, spends, d, seed=4) for d in days], ignore_index=True)


def _by_day(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby(pd.to_datetime(frame["date"]).dt.date)["conversions"].sum()


def test_a_day_shows_more_conversions_in_each_later_export_and_all_of_them_in_the_end(
    complete: pd.DataFrame,
) -> None:
    last = FIRST + dt.timedelta(days=19)
    exports = [as_exported(complete, LAG, last + dt.timedelta(days=d), seed=4) for d in (0, 3, 30)]
    shown = [_by_day(e) for e in exports]
    assert (shown[0] <= shown[1]).all() and (shown[1] <= shown[2]).all()
    assert (shown[0] < shown[1]).any()
    pd.testing.assert_series_equal(shown[2], _by_day(complete))


def test_the_reported_share_by_age_follows_the_lag(complete: pd.DataFrame) -> None:
    last = FIRST + dt.timedelta(days=19)
    shown = _by_day(as_exported(complete, LAG, last, seed=4))
    full = _by_day(complete)
    young = [last - dt.timedelta(days=a) for a in range(4)]
    share = float(shown[young].sum() / full[young].sum())
    expected = float(np.mean(LAG.cumulative[:4]))
    assert share == pytest.approx(expected, abs=0.05)


def test_an_export_keeps_spend_and_scales_value_with_the_conversions_shown(
    complete: pd.DataFrame,
) -> None:
    shown = as_exported(complete, LAG, FIRST + dt.timedelta(days=19), seed=4)
    ordered = complete.sort_values(list(shown.columns[:5]), kind="mergesort")
    assert shown["spend"].sum() == pytest.approx(ordered["spend"].sum())
    converting = shown["conversions"] > 0
    ratio = shown.loc[converting, "conversion_value"] / shown.loc[converting, "conversions"]
    assert np.isfinite(ratio).all() and (ratio > 0).all()
    assert (shown.loc[~converting, "conversion_value"] == 0).all()


def test_rows_after_the_export_day_are_refused(complete: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="cannot be in an export"):
        as_exported(complete, LAG, FIRST, seed=4)
