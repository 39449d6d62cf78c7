"""Properties on random concave curves: cap and bounds always hold, more budget never hurts, and
the answer is within 0.1% of an independent exact optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_helpers import exact_optimum, random_table

from optimizer.solver import AllocationRequest, Bounds, Group, allocate
from tests.optimizer.solver.solver_helpers import to_micros

CENT = 0.01
SETTINGS = settings(max_examples=25, deadline=None)


def _grid_bounds(table, max_change: float) -> tuple[np.ndarray, np.ndarray]:
    current = table["current_spend"].to_numpy()
    low = np.maximum(current * max(1 - max_change, 0.0), table["trust_low"].to_numpy())
    high = np.minimum(current * (1 + max_change), table["trust_high"].to_numpy())
    return np.ceil(np.round(low * 1e6) / 1e4) / 100, np.floor(np.round(high * 1e6) / 1e4) / 100


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    fill=st.floats(0.0, 1.2),
    max_change=st.floats(0.1, 1.5),
    group_fill=st.floats(0.0, 1.0),
    solver=st.sampled_from(["highs", "cbc"]),
)
def test_cap_and_every_bound_hold_after_rounding(seed, n, fill, max_change, group_fill, solver):
    table = random_table(n, seed, campaigns=max(2, n // 4), trust=(0.3, 3.0))
    low, high = _grid_bounds(table, max_change)
    budget = low.sum() + fill * (high.sum() - low.sum()) + 0.005
    brand = table["campaign"].str.startswith("brand").to_numpy()
    group_cap = low[brand].sum() + group_fill * (high[brand].sum() - low[brand].sum())
    first = table["campaign"][0]
    in_first = (table["campaign"] == first).to_numpy()
    first_cap = low[in_first].sum() + group_fill * (high[in_first].sum() - low[in_first].sum())
    request = AllocationRequest(
        currency="EUR",
        budget_micros=to_micros(budget),
        max_change=max_change,
        groups=(Group("brand", "brand*", max_amount_micros=to_micros(group_cap)),),
        campaign_bounds={first: Bounds(maximum_micros=to_micros(first_cap))},
        solver=solver,
    )
    result = allocate(table, request)
    micros = result.entities["recommended_micros"].to_numpy()
    spend = micros / 1e6
    assert micros.sum() <= round(budget * 1e6)
    assert (micros % 10_000 == 0).all()
    assert (spend >= low - 1e-9).all() and (spend <= high + 1e-9).all()
    assert spend[brand].sum() <= group_cap + 1e-9
    assert spend[in_first].sum() <= first_cap + 1e-9


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    fraction=st.floats(0.5, 1.5),
    extra=st.floats(0.01, 0.5),
    objective=st.sampled_from(["conversions", "value"]),
)
def test_a_larger_cap_never_lowers_the_objective(seed, n, fraction, extra, objective):
    table = random_table(n, seed)
    budget = fraction * float(table["current_spend"].sum())

    def reached(cap: float) -> float:
        request = AllocationRequest(
            currency="EUR", budget_micros=to_micros(cap), max_change=0.9, objective=objective
        )
        result = allocate(table, request)
        return result.expected_conversions if objective == "conversions" else result.expected_value

    smaller, larger = reached(budget), reached(budget * (1 + extra))
    assert larger >= smaller * (1 - 1e-6)


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 60),
    fraction=st.floats(0.3, 1.3),
    max_change=st.floats(0.2, 2.0),
    value=st.booleans(),
)
def test_within_a_tenth_of_a_percent_of_the_exact_optimum(seed, n, fraction, max_change, value):
    table = random_table(n, seed)
    low, high = _grid_bounds(table, max_change)
    budget = max(fraction * float(table["current_spend"].sum()), low.sum() + CENT)
    request = AllocationRequest(
        currency="EUR",
        budget_micros=to_micros(budget),
        max_change=max_change,
        objective="value" if value else "conversions",
    )
    result = allocate(table, request)
    weights = table["value_per_conversion"].to_numpy() if value else None
    cap = np.floor(np.round(budget * 1e6) / 1e4) / 100
    _, best = exact_optimum(table, cap, low, high, weights)
    reached = result.expected_value if value else result.expected_conversions
    assert reached >= 0.999 * best
    assert reached <= best * (1 + 1e-9) + 1e-9


@pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])
def test_one_large_case_against_the_exact_optimum(solver) -> None:
    table = random_table(400, seed=77)
    low, high = _grid_bounds(table, 0.8)
    budget = 0.9 * float(table["current_spend"].sum())
    result = allocate(
        table,
        AllocationRequest(
            currency="EUR", budget_micros=to_micros(budget), max_change=0.8, solver=solver
        ),
    )
    exact, best = exact_optimum(table, np.floor(budget * 100) / 100, low, high)
    assert result.expected_conversions >= 0.9999 * best
    spend = result.entities["recommended_spend"].to_numpy()
    inside = (exact > low + 1) & (exact < high - 1)
    assert np.median(np.abs(spend - exact)[inside] / exact[inside]) < 0.03
