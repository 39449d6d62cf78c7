"""Campaigns sharing one budget are one decision variable: the platform splits the budget, so the
plan holds the assumed split and publishes one amount for it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_helpers import random_table

from optimizer.errors import InvalidInputError
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest, SharedBudget, allocate
from tests.optimizer.solver.solver_helpers import to_micros


def _table(seed: int) -> pd.DataFrame:
    return random_table(24, seed=seed, campaigns=6)


def _recent_shares(table: pd.DataFrame, members: list[str]) -> dict[str, float]:
    spend = table.groupby("campaign")["current_spend"].sum()
    return {c: float(spend[c]) for c in members}


def _by_campaign(entities: pd.DataFrame, column: str = "recommended_micros") -> pd.Series:
    return entities.groupby("campaign")[column].sum()


@pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])
def test_members_keep_the_assumed_split_and_the_total_stays_under_the_cap(solver) -> None:
    table = _table(5)
    members = ["brand-000", "generic-001", "brand-002"]
    shares = _recent_shares(table, members)
    budget = to_micros(0.8 * float(table["current_spend"].sum()))
    request = AllocationRequest(
        currency="EUR",
        budget_micros=budget,
        solver=solver,
        max_change=0.5,
        shared_budgets=(SharedBudget("pool", shares),),
    )
    result = allocate(table, request)
    spend = _by_campaign(result.entities)
    assert result.total_micros <= budget
    shared_total = int(spend[members].sum())
    weights = pd.Series(shares) / sum(shares.values())
    for campaign in members:
        # rounding each entity down to the cent moves a campaign by at most a cent per entity
        entities = int((table["campaign"] == campaign).sum())
        assert abs(spend[campaign] - weights[campaign] * shared_total) <= (entities + 1) * 10_000


def test_without_the_shared_budget_the_members_move_independently() -> None:
    """The control: the same request without the shared budget breaks the split, so the test above
    checks something the solver would not do by itself."""
    table = _table(5)
    members = ["brand-000", "generic-001", "brand-002"]
    shares = pd.Series(_recent_shares(table, members))
    budget = to_micros(0.8 * float(table["current_spend"].sum()))
    request = AllocationRequest(currency="EUR", budget_micros=budget, max_change=0.5)
    spend = _by_campaign(allocate(table, request).entities)[members]
    assert not np.allclose(spend / spend.sum(), shares / shares.sum(), atol=0.01)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 500),
    fraction=st.floats(0.3, 1.5),
    size=st.integers(2, 4),
)
def test_allocations_sum_to_at_most_the_cap_and_each_shared_budget_is_one_value(
    seed: int, fraction: float, size: int
) -> None:
    table = _table(seed)
    campaigns = sorted(table["campaign"].unique())
    members = campaigns[:size]
    shares = _recent_shares(table, members)
    budget = to_micros(fraction * float(table["current_spend"].sum()))
    request = AllocationRequest(
        currency="EUR",
        budget_micros=budget,
        max_change=0.6,
        shared_budgets=(SharedBudget("pool", shares),),
    )
    result = allocate(table, request)
    assert result.total_micros <= budget
    assert int(result.entities["recommended_micros"].sum()) == result.total_micros
    spend = _by_campaign(result.entities, "recommended_spend")[members]
    total = float(spend.sum())
    weights = pd.Series(shares) / sum(shares.values())
    slack = 0.01 * len(table) / MICROS * MICROS  # a cent per entity from rounding
    assert np.all(np.abs(spend - weights[members] * total) <= slack + 1e-6)


def test_a_split_the_bounds_cannot_hold_falls_back_to_campaigns_one_by_one() -> None:
    """A split far from the campaigns' bounds (max change 10%) cannot be held: the plan is still
    made, campaign by campaign, instead of failing."""
    table = _table(7)
    members = sorted(table["campaign"].unique())[:2]
    budget = to_micros(float(table["current_spend"].sum()))
    request = AllocationRequest(
        currency="EUR",
        budget_micros=budget,
        max_change=0.1,
        shared_budgets=(SharedBudget("pool", {members[0]: 0.99, members[1]: 0.01}),),
    )
    result = allocate(table, request)
    assert result.total_micros <= budget


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ((SharedBudget("a", {"x": 1.0, "y": 1.0}), SharedBudget("b", {"y": 1.0, "z": 1.0})),
         "two shared budgets"),
    ],
    ids=["campaign-in-two-budgets"],
)  # fmt: skip
def test_a_campaign_in_two_shared_budgets_is_refused(budgets, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        AllocationRequest(currency="EUR", shared_budgets=budgets)


@pytest.mark.parametrize(
    ("shares", "message"),
    [({"x": 1.0}, "at least two"), ({"x": 1.0, "y": -1.0}, ">= 0"),
     ({"x": 1.0, "y": float("nan")}, ">= 0")],
    ids=["one-campaign", "negative-share", "nan-share"],
)  # fmt: skip
def test_a_bad_shared_budget_is_refused(shares, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SharedBudget("pool", shares)
