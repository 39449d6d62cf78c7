"""Rows a week or a month apart: recognised, fitted on their own grain, planned per day; rows at
any other spacing refused. Never read as days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.models import fit_account
from optimizer.models.context import detect_grain
from optimizer.schema import CANONICAL_COLUMNS, MICROS
from optimizer.simulate import Scenario, simulate
from optimizer.solver import AllocationRequest, allocate

ROBYN = Path(__file__).parents[2] / "data" / "weekly" / "robyn_dt_simulated_weekly.csv"
CHANNELS = ("tv", "ooh", "print", "facebook", "search")
VALUE_PER_CONVERSION = 100.0


def robyn_weekly() -> pd.DataFrame:
    """The Robyn file as a weekly export: one row per paid channel and week (see the README)."""
    raw = pd.read_csv(ROBYN)
    spend = raw[[f"{c}_S" for c in CHANNELS]].to_numpy(dtype=float)
    share = spend / np.maximum(spend.sum(axis=1, keepdims=True), 1e-9)
    revenue = raw["revenue"].to_numpy(dtype=float)[:, None] * share
    rows = []
    for j, channel in enumerate(CHANNELS):
        clicks = raw["search_clicks_P"] if channel == "search" else pd.Series(0, index=raw.index)
        rows.append(
            pd.DataFrame(
                {
                    "date": pd.to_datetime(raw["DATE"]),
                    "campaign": channel,
                    "ad_group": "",
                    "keyword": "",
                    "match_type": "",
                    "spend": np.round(spend[:, j], 2),
                    "clicks": np.round(clicks.to_numpy(dtype=float)).astype(np.int64),
                    "impressions": 0,
                    "conversions": np.round(revenue[:, j] / VALUE_PER_CONVERSION, 2),
                    "conversion_value": np.round(revenue[:, j], 2),
                }
            )
        )
    return pd.concat(rows, ignore_index=True).loc[:, list(CANONICAL_COLUMNS)]


@pytest.mark.parametrize(
    ("dates", "grain"),
    [
        (pd.date_range("2026-01-01", periods=40, freq="D"), "day"),
        (pd.date_range("2026-01-01", periods=40, freq="D").delete([3, 9, 10]), "day"),
        (pd.date_range("2026-01-05", periods=30, freq="7D"), "week"),
        (pd.date_range("2026-01-05", periods=30, freq="7D").delete([4, 5]), "week"),
        (pd.date_range("2026-01-01", periods=14, freq="MS"), "month"),
    ],
    ids=["daily", "daily-with-gaps", "weekly", "weekly-missing-weeks", "monthly"],
)
def test_the_grain_is_recognised(dates: pd.DatetimeIndex, grain: str) -> None:
    assert detect_grain(dates.to_numpy()) == grain


@pytest.mark.parametrize(
    "dates",
    [
        pd.date_range("2026-01-01", periods=30, freq="3D"),
        pd.date_range("2026-01-05", periods=30, freq="7D").append(pd.DatetimeIndex(["2026-01-08"])),
    ],
    ids=["three-days-apart", "weekly-with-a-stray-row"],
)
def test_other_spacings_are_refused_with_a_message(dates: pd.DatetimeIndex) -> None:
    with pytest.raises(InvalidInputError, match="cannot be read as days"):
        detect_grain(dates.to_numpy())


def test_a_weekly_export_is_planned_per_day() -> None:
    history = robyn_weekly()
    curves = fit_account(history)
    assert curves.grain == "week"
    last = history["date"].max()
    assert curves.window_end == (last + pd.Timedelta(days=6)).date()
    weekly = history[history["date"] == last].set_index("campaign")["spend"]
    table = curves.table(curves.window_end + dt.timedelta(days=1)).set_index("campaign")
    for channel, spend in weekly.items():
        assert table.loc[channel, "current_spend"] == pytest.approx(spend / 7, rel=1e-9)
    budget = round(float(table["current_spend"].sum()), 2)
    request = AllocationRequest(currency="EUR", budget_micros=round(budget * MICROS))
    allocation = allocate(table.reset_index(), request)
    recommended = float(allocation.entities["recommended_spend"].sum())
    assert 0.99 * budget <= recommended <= budget
    assert all("weeks with spend" in c.diagnostics.reason for c in curves)


def test_weekly_curves_recover_the_daily_truth() -> None:
    sim = simulate(
        campaigns=3, keywords_per_campaign=5, days=364, seed=41, scenario=Scenario(grain="week")
    )
    curves = fit_account(sim.history)
    errors = []
    for curve in curves:
        truth = sim.truth.curves[curve.key]
        x = curve.current_spend
        ratio = (x / truth.k) ** truth.shape
        true = truth.vmax * ratio / (1 + ratio)
        trend = np.exp(
            truth.effects.trend_per_year * sim.truth.day_index(curve.reference_date) / 365
        )
        errors.append(abs(float(curve.expected(x)) / (true * trend) - 1))
    assert np.median(errors) < 0.15
    assert all(f == 1.0 for c in curves for f in c.dow)


def test_a_monthly_history_is_fitted_on_months() -> None:
    sim = simulate(
        campaigns=2, keywords_per_campaign=3, days=730, seed=42, scenario=Scenario(grain="month")
    )
    curves = fit_account(sim.history)
    assert curves.grain == "month"
    last = sim.history["date"].max()
    assert curves.window_end == (last + pd.offsets.MonthEnd(0)).date()
    assert all("months with spend" in c.diagnostics.reason for c in curves)


def test_rows_dated_inside_their_week_are_refused() -> None:
    history = robyn_weekly()
    history.loc[0, "date"] = history.loc[0, "date"] + pd.Timedelta(days=3)
    with pytest.raises(InvalidInputError, match="cannot be read as days"):
        fit_account(history)
