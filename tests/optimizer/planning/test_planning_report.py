"""Planning a day, pacing a monthly cap, and the published recommendation tables."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InvalidInputError
from optimizer.money import parse_amount
from optimizer.planning import month_to_date_micros, pacing_weights, plan_day, plan_frontier
from optimizer.report import RECOMMENDATION_COLUMNS, recommendation_table, to_safe_csv
from optimizer.requests import parse_group, parse_objective
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest
from tests.optimizer.solver.solver_helpers import to_micros


def _request(**kwargs: object) -> AllocationRequest:
    return AllocationRequest(currency="EUR", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["keyword", "campaign"], ids=["keyword", "campaign"])
def test_table_sums_to_at_most_the_budget_at_every_level(small_fit, level: str) -> None:
    curve_set, _ = small_fit
    day = curve_set.window_end + dt.timedelta(days=1)
    budget = round(sum(c.current_spend for c in curve_set) * 1.1, 2)
    plan = plan_day(curve_set, _request(budget_micros=to_micros(budget)), day)
    table = recommendation_table(plan.allocation, day, level)  # type: ignore[arg-type]
    assert list(table.columns) == list(RECOMMENDATION_COLUMNS)
    cents = np.round(table["recommended_spend"].to_numpy() * 100)
    assert np.allclose(cents, table["recommended_spend"].to_numpy() * 100)
    assert int(cents.sum()) <= round(budget * 100)
    assert (table["date"] == day.isoformat()).all()
    if level == "campaign":
        assert table["campaign"].is_unique and (table["keyword"] == "").all()


def test_monthly_cap_is_paced_and_never_exceeded(small_fit) -> None:
    curve_set, history = small_fit
    day = curve_set.window_end + dt.timedelta(days=1)
    spent = month_to_date_micros(history, day)
    cap = spent + 3_000 * MICROS
    plan = plan_day(curve_set, _request(), day, monthly_cap_micros=cap, month_to_date_micros=spent)
    assert plan.pacing is not None
    assert plan.allocation.total_micros <= plan.pacing.daily_budget_micros
    assert spent + plan.pacing.daily_budget_micros <= cap
    with pytest.raises(InvalidInputError, match="either"):
        plan_day(curve_set, _request(budget_micros=to_micros(100.0)), day, monthly_cap_micros=cap)


def test_month_to_date_counts_only_the_days_of_the_month_before_the_day() -> None:
    history = pd.DataFrame(
        {"date": pd.to_datetime(["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]),
         "spend": [100.0, 0.1, 0.2, 50.0]}
    )  # fmt: skip
    assert month_to_date_micros(history, dt.date(2026, 11, 3)) == 300_000


def test_pacing_weights_average_one(small_fit) -> None:
    weights = pacing_weights(small_fit[0])
    assert len(weights) == 7 and pytest.approx(sum(weights) / 7) == 1.0


def test_frontier_buys_more_with_more_budget(small_fit) -> None:
    curve_set, _ = small_fit
    day = curve_set.window_end + dt.timedelta(days=1)
    points = plan_frontier(curve_set, _request(), day).points
    feasible = points[points["feasible"].astype(bool)]
    assert len(feasible) >= 5
    assert np.all(np.diff(feasible["expected_conversions"].to_numpy()) >= -1e-6)
    # below the current total the cap binds: every point has a price and dearer conversions follow
    tight = feasible[feasible["budget"] <= feasible["budget"].median()]
    assert (tight["shadow_price"] > 0).all()
    assert np.all(np.diff(tight["marginal_cpa"].to_numpy()) >= -1e-6)


def test_csv_neutralises_formulas_and_keeps_cents_exact() -> None:
    table = pd.DataFrame(
        {"campaign": ["=HYPERLINK(\"http://x\")", "+1", "Brand"],
         "recommended_spend": [123456.78, 0.1, 19.99], "change_pct": [-12.35, 0.0, 1.0]}
    )  # fmt: skip
    text = to_safe_csv(table)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert back["campaign"].tolist() == ['\'=HYPERLINK("http://x")', "'+1", "Brand"]
    assert "123456.78" in text and "-12.35" in text


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("brand=Brand*:30%", {"max_share": 0.3, "max_amount_micros": None, "min_share": None}),
        ("generic=*Generic*:1500", {"max_amount_micros": to_micros(1500.0), "max_share": None}),
        ("floor=*Shop*:>=25%", {"min_share": 0.25, "max_share": None}),
    ],
    ids=["share-cap", "amount-cap", "share-floor"],
)
def test_group_specs(spec: str, expected: dict[str, object]) -> None:
    group = parse_group(spec)
    for name, value in expected.items():
        assert getattr(group, name) == value


@pytest.mark.parametrize(
    "spec", ["brand", "brand=Brand*", "=x:3", "b=x:ten"], ids=["bare", "no-limit", "no-name", "nan"]
)
def test_bad_group_specs_are_explained(spec: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_group(spec)


def test_amount_and_objective_parsing() -> None:
    assert parse_amount("5,000.25", field="budget") == 5_000_250_000
    assert parse_objective("min-cost") == "min_cost"
    with pytest.raises(InvalidInputError, match="budget"):
        parse_amount("-3", field="budget")
    with pytest.raises(InvalidInputError, match="objective"):
        parse_objective("clicks")
