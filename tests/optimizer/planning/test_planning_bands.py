"""The ranges a plan shows: the calibrated curve band, and the likely range of the conversions
that will be counted, which must hold what it says on days the fit did not see."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.accuracy import predict_at
from optimizer.bands import likely_range, scaled_band
from optimizer.models import fit_account
from optimizer.report import likely_total, recommendation_table
from optimizer.simulate import simulate
from optimizer.solver import AllocationRequest, allocate

_means = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)


@given(point=_means, below=_means, above=_means, scale=st.floats(0.0, 5.0), more=st.floats(0, 3))
def test_a_wider_calibration_never_narrows_the_likely_range(point, below, above, scale, more):
    low, high = scaled_band([point], [point - below], [point + above], scale)
    wide_low, wide_high = scaled_band([point], [point - below], [point + above], scale + more)
    lo, hi = likely_range(low, high)
    wide_lo, wide_hi = likely_range(wide_low, wide_high)
    assert wide_lo[0] <= lo[0] <= hi[0] <= wide_hi[0]
    assert lo[0] == np.floor(lo[0]) and hi[0] == np.floor(hi[0])


def test_nothing_expected_is_a_range_of_zero() -> None:
    lo, hi = likely_range([0.0, 0.0], [0.0, 2.0])
    assert lo.tolist() == [0.0, 0.0] and hi[0] == 0.0 and hi[1] >= 2


@pytest.mark.parametrize("seed", [1, 2], ids=["seed-1", "seed-2"])
def test_the_likely_range_holds_what_it_says_on_unseen_days(seed: int) -> None:
    """Fit on all but the last 14 days, then check the likely range at the spend made: per
    campaign and day it holds 75-95% of the counts; per keyword and day (about one conversion) it
    holds at least 80%, being whole conversions."""
    sim = simulate(campaigns=6, keywords_per_campaign=8, days=180, seed=seed)
    dates = pd.to_datetime(sim.history["date"]).dt.date
    cut = max(dates) - dt.timedelta(days=14)
    pairs = predict_at(fit_account(sim.history[dates <= cut]), sim.history[dates > cut], 1.0)
    lo, hi = likely_range(pairs["low"], pairs["high"])
    actual = pairs["actual"].to_numpy()
    assert ((actual >= lo) & (actual <= hi)).mean() >= 0.80
    days = pairs.groupby(["campaign", "date"])[["low", "high", "actual"]].sum()
    lo, hi = likely_range(days["low"], days["high"])
    held = ((days["actual"] >= lo) & (days["actual"] <= hi)).mean()
    assert 0.75 <= held <= 0.95, held


def test_a_plans_rows_show_the_likely_range_and_a_campaign_sums_its_means(small_fit) -> None:
    curves, _ = small_fit
    day = curves.window_end + dt.timedelta(days=1)
    table = curves.table(day)
    allocation = allocate(
        table, AllocationRequest(currency="EUR", budget_micros=round(table["current_spend"].sum()))
    )
    keywords = recommendation_table(allocation, day, "keyword", band_scale=1.5)
    campaigns = recommendation_table(allocation, day, "campaign", band_scale=1.5)
    for rows in (keywords, campaigns):
        assert (rows["likely_conversions_low"] <= rows["likely_conversions_high"]).all()
        assert (rows["likely_conversions_low"] <= rows["expected_conversions"] + 1e-9).all()
    low, high = scaled_band(
        allocation.entities["expected_conversions"],
        allocation.entities["conversions_low"],
        allocation.entities["conversions_high"],
        1.5,
    )
    first = allocation.entities["campaign"] == campaigns["campaign"].iloc[0]
    lo, hi = likely_range([low[first].sum()], [high[first].sum()])
    assert campaigns[["likely_conversions_low", "likely_conversions_high"]].iloc[0].tolist() == [
        lo[0],
        hi[0],
    ]
    total_lo, total_hi = likely_total(allocation, 1.5)
    assert total_lo <= allocation.expected_conversions <= total_hi
