"""Each objective optimises what it says, and the cap's shadow price is what one more unit buys."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from solver_helpers import curve_values, random_table, spend_at_price

from optimizer.solver import AllocationRequest, allocate
from optimizer.solver.allocate import cap_shadow_price, solve_prepared
from optimizer.solver.prepare import prepare
from tests.optimizer.solver.solver_helpers import to_micros

SOLVERS = pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return random_table(150, seed=21)


def _run(table: pd.DataFrame, solver: str, **kwargs):
    budget = float(table["current_spend"].sum())
    base = {
        "currency": "EUR",
        "budget_micros": to_micros(budget),
        "max_change": 0.8,
        "solver": solver,
    }
    return allocate(table, AllocationRequest(**{**base, **kwargs}))


def _value(result) -> float:
    return float(result.entities["expected_value"].sum())


@SOLVERS
def test_value_objective_buys_more_value_and_conversions_more_conversions(table, solver) -> None:
    by_conversions = _run(table, solver)
    by_value = _run(table, solver, objective="value")
    assert by_value.expected_value > by_conversions.expected_value
    assert by_conversions.expected_conversions > by_value.expected_conversions


@SOLVERS
def test_profit_objective_reaches_the_best_profit(table, solver) -> None:
    margin = 0.4
    result = _run(table, solver, objective="profit", margin=margin, budget_micros=None)
    current = table["current_spend"].to_numpy()
    weights = margin * table["value_per_conversion"].to_numpy()
    lower = np.ceil(0.2 * current * 100) / 100
    upper = np.floor(1.8 * current * 100) / 100
    best = spend_at_price(table, 1.0, lower, upper, weights)
    best_profit = float((weights * curve_values(table, best)).sum() - best.sum())
    profit = margin * result.expected_value - result.total_spend
    assert profit == pytest.approx(best_profit, rel=1e-3)
    assert result.entities["binding"].eq("none").sum() > 10


@SOLVERS
def test_min_cost_reaches_the_target_for_less(table, solver) -> None:
    reference = _run(table, solver)
    target = 0.9 * reference.expected_conversions
    cheapest = _run(
        table, solver, objective="min_cost", conversions_target=target, budget_micros=None
    )
    assert cheapest.expected_conversions >= target * (1 - 1e-4)
    assert cheapest.total_spend < reference.total_spend
    again = _run(table, solver, budget_micros=to_micros(cheapest.total_spend))
    assert again.expected_conversions == pytest.approx(cheapest.expected_conversions, rel=1e-3)


@SOLVERS
def test_shadow_price_matches_a_finite_difference(table, solver) -> None:
    budget = float(table["current_spend"].sum())
    step = 0.01 * budget
    low = _run(table, solver, budget_micros=to_micros(budget - step))
    high = _run(table, solver, budget_micros=to_micros(budget + step))
    middle = _run(table, solver, budget_micros=to_micros(budget))
    slope = (high.expected_conversions - low.expected_conversions) / (2 * step)
    assert middle.cap_shadow_price == pytest.approx(slope, rel=0.05)
    assert "conversions" in middle.shadow_price_text()


def test_shadow_price_without_a_dual_comes_from_the_marginal_segment(table) -> None:
    request = AllocationRequest(
        currency="EUR", budget_micros=to_micros(float(table["current_spend"].sum()))
    )
    prepared = prepare(table, request)
    solution = solve_prepared(prepared)
    blind = dataclasses.replace(solution, row_duals=np.full_like(solution.row_duals, np.nan))
    assert cap_shadow_price(prepared, blind) == pytest.approx(
        cap_shadow_price(prepared, solution), rel=1e-6
    )


def test_shadow_price_is_zero_when_the_cap_is_slack(table) -> None:
    result = _run(table, "highs", budget_micros=to_micros(10 * float(table["current_spend"].sum())))
    assert result.cap_shadow_price == pytest.approx(0.0, abs=1e-9)
    assert _run(table, "highs", budget_micros=None).cap_shadow_price is None


@SOLVERS
def test_marginal_cpa_is_one_over_the_slope(table, solver) -> None:
    result = _run(table, solver)
    spend = result.entities["recommended_spend"].to_numpy()
    slope = curve_values(table, spend, derivative=True)
    np.testing.assert_allclose(result.entities["marginal_cpa"], 1.0 / slope, rtol=1e-9)


def test_rows_report_changes_and_bands(table) -> None:
    result = _run(table, "highs")
    rows = result.entities
    current = table["current_spend"].to_numpy()
    np.testing.assert_allclose(
        rows["change_pct"], (rows["recommended_spend"] - current) / current * 100
    )
    assert (rows["conversions_low"] <= rows["expected_conversions"]).all()
    assert (rows["expected_conversions"] <= rows["conversions_high"]).all()
    np.testing.assert_allclose(
        rows["expected_value"], rows["expected_conversions"] * table["value_per_conversion"]
    )
    campaigns = result.campaigns()
    assert campaigns["recommended_spend"].sum() == pytest.approx(result.total_spend)
    assert set(result.timings) == {"build_s", "solve_s", "refine_s", "results_s"}
