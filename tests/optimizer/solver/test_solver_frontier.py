"""The budget frontier: monotone, one model re-solved per budget, consistent with `allocate`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from solver_helpers import random_table

import optimizer.solver.frontier as frontier_module
import optimizer.solver.prepare as prepare_module
from optimizer.errors import InvalidInputError
from optimizer.solver import (
    DEFAULT_FRACTIONS,
    FRONTIER_COLUMNS,
    AllocationRequest,
    allocate,
    budget_frontier,
)
from tests.optimizer.solver.solver_helpers import to_micros

SOLVERS = pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return random_table(100, seed=51)


def _request(solver: str = "highs", **kwargs) -> AllocationRequest:
    return AllocationRequest(**{"currency": "EUR", "max_change": 0.9, "solver": solver, **kwargs})


@SOLVERS
def test_default_budgets_and_monotone_returns(table, solver) -> None:
    result = budget_frontier(table, _request(solver))
    points = result.points
    assert list(points.columns) == list(FRONTIER_COLUMNS)
    current = float(table["current_spend"].sum())
    np.testing.assert_allclose(points["budget"], np.array(DEFAULT_FRACTIONS) * current)
    assert points["feasible"].all()
    assert (np.diff(points["expected_conversions"]) >= -1e-9).all()
    assert (np.diff(points["average_cpa"]) >= -1e-9).all()
    marginal = points["marginal_cpa"].to_numpy()
    assert (marginal[1:] >= marginal[:-1] - 1e-6).all()
    assert (points["spend"] <= points["budget"] + 1e-6).all()


def test_one_model_is_built_and_re_solved(table, monkeypatch) -> None:
    opened, built = [], []
    real_open, real_build = frontier_module.open_session, prepare_module.build_program

    def counting_open(*args, **kwargs):
        session = real_open(*args, **kwargs)
        opened.append(session)
        return session

    monkeypatch.setattr(frontier_module, "open_session", counting_open)
    monkeypatch.setattr(
        prepare_module, "build_program", lambda *a, **k: built.append(1) or real_build(*a, **k)
    )
    result = budget_frontier(
        table, _request(), budgets_micros=[to_micros(b) for b in (500.0, 1000.0, 1500.0, 2000.0)]
    )
    assert len(opened) == 1
    assert len(built) == 1
    assert len(result.points) == 4


@SOLVERS
def test_points_match_single_allocations(table, solver) -> None:
    budgets = [0.8 * float(table["current_spend"].sum()), 1.1 * float(table["current_spend"].sum())]
    points = budget_frontier(
        table, _request(solver), budgets_micros=[to_micros(b) for b in budgets]
    ).points
    for budget, conversions in zip(budgets, points["expected_conversions"], strict=True):
        single = allocate(table, _request(solver, budget_micros=to_micros(budget), refine=False))
        assert conversions == pytest.approx(single.expected_conversions, rel=1e-4)


def test_marginal_cpa_is_the_inverse_shadow_price(table) -> None:
    points = budget_frontier(table, _request()).points
    binding = points["shadow_price"] > 0
    np.testing.assert_allclose(
        points.loc[binding, "marginal_cpa"], 1.0 / points.loc[binding, "shadow_price"]
    )
    assert np.isinf(points.loc[~binding, "marginal_cpa"]).all()


def test_value_objective_uses_neighbouring_points(table) -> None:
    points = budget_frontier(table, _request(objective="value")).points
    spend, conversions = points["spend"].to_numpy(), points["expected_conversions"].to_numpy()
    middle = (spend[2] - spend[0]) / (conversions[2] - conversions[0])
    assert points["marginal_cpa"][1] == pytest.approx(middle, rel=0.05)


def test_budgets_below_the_minimums_are_marked_infeasible(table) -> None:
    floor = 0.5 * float(table["current_spend"].sum())
    result = budget_frontier(
        table,
        _request(max_change=0.5),
        budgets_micros=[to_micros(floor * 0.9), to_micros(floor * 1.5)],
    )
    assert result.points["feasible"].tolist() == [False, True]
    assert np.isnan(result.points["expected_conversions"][0])


def test_min_cost_has_no_frontier(table) -> None:
    request = _request(objective="min_cost", conversions_target=10.0)
    with pytest.raises(InvalidInputError, match="frontier"):
        budget_frontier(table, request)
