"""The cap is hard, the trust region and the max-change limit soft: a cap below their floors still
gets a plan, with what gave way named, in the stated order, by no more than the cap needs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_helpers import random_table

from optimizer.errors import InfeasibleError
from optimizer.solver import AllocationRequest, Bounds, allocate
from optimizer.solver.relax import relax_floors
from tests.optimizer.solver.solver_helpers import to_micros

CENT = 10_000


def _floors(table, max_change: float) -> tuple[int, int]:
    """Total max-change floors and total trust-region-or-change floors, in micros."""
    current = table["current_spend"].to_numpy()
    change = current * (1 - max_change)
    trust = np.maximum(change, table["trust_low"].to_numpy())
    grid = lambda v: int((np.ceil(np.round(v * 1e6) / CENT) * CENT).sum())  # noqa: E731
    return grid(change), grid(trust)


@pytest.mark.parametrize(
    ("where", "expected"),
    [(0.5, ["trust_low"]), (0.0, ["trust_low", "max_change"])],
    ids=["between-change-and-trust-floors", "below-the-change-floors"],
)
def test_a_cap_below_the_soft_floors_relaxes_them_in_order(where, expected) -> None:
    table = random_table(30, seed=7, trust=(0.9, 3.0))
    change_floor, trust_floor = _floors(table, 0.2)
    cap = int(change_floor + where * (trust_floor - change_floor)) if where else change_floor // 2
    request = AllocationRequest(currency="EUR", budget_micros=cap, max_change=0.2)
    allocation = allocate(table, request)
    assert allocation.total_micros <= cap
    assert [r.constraint for r in allocation.relaxations] == expected
    relaxed = sum(r.relaxed_micros for r in allocation.relaxations)
    assert trust_floor - cap <= relaxed <= trust_floor - cap + len(table) * CENT
    assert all("to fit the cap of" in r.text for r in allocation.relaxations)


def test_a_cap_the_soft_floors_fit_relaxes_nothing() -> None:
    table = random_table(30, seed=7, trust=(0.9, 3.0))
    _, trust_floor = _floors(table, 0.2)
    request = AllocationRequest(currency="EUR", budget_micros=trust_floor + to_micros(50.0))
    assert allocate(table, request).relaxations == ()


def test_hard_floors_above_the_cap_stay_infeasible() -> None:
    table = random_table(10, seed=3)
    first = table["entity_id"][0]
    request = AllocationRequest(
        currency="EUR",
        budget_micros=to_micros(5.0),
        entity_bounds={first: Bounds(minimum_micros=to_micros(6.0))},
    )
    with pytest.raises(InfeasibleError, match=r"exceeds the cap 5\.00"):
        allocate(table, request)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 30),
    budget_share=st.floats(0.0, 1.2),
)
def test_relaxed_floors_fit_the_budget_and_keep_their_order(seed, n, budget_share) -> None:
    rng = np.random.default_rng(seed)
    hard = rng.integers(0, 50, n) * CENT
    change = hard + rng.integers(0, 80, n) * CENT
    trust = change + rng.integers(0, 80, n) * CENT
    budget = int(hard.sum() + budget_share * (trust.sum() - hard.sum()))
    lowered, relaxations = relax_floors(hard, change, trust, budget, unit=CENT, currency="EUR")
    assert (lowered % CENT == 0).all()
    assert (hard <= lowered).all() and (lowered <= trust).all()
    assert lowered.sum() <= max(budget, trust.sum() if trust.sum() <= budget else budget)
    if trust.sum() > budget:
        assert budget - lowered.sum() <= n * CENT
        kinds = [r.constraint for r in relaxations]
        assert kinds in (["trust_low"], ["trust_low", "max_change"], ["max_change"], [])
        if change.sum() <= budget:
            assert (lowered >= change).all()
    else:
        assert relaxations == () and (lowered == trust).all()


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 30),
    share=st.floats(0.0, 1.5),
    max_change=st.floats(0.05, 0.9),
)
def test_any_cap_above_the_hard_floors_gets_a_plan_within_it(seed, n, share, max_change) -> None:
    table = random_table(n, seed, trust=(0.5, 3.0))
    _, trust_floor = _floors(table, max_change)
    cap = int(share * trust_floor) // CENT * CENT
    request = AllocationRequest(currency="EUR", budget_micros=cap, max_change=max_change)
    allocation = allocate(table, request)
    assert 0 <= allocation.total_micros <= cap
    if cap < trust_floor:
        assert allocation.relaxations
