"""Every infeasible request is refused with an explanation that names the clashing constraints."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from solver_helpers import random_table

from optimizer.errors import InfeasibleError
from optimizer.money import format_money
from optimizer.solver import AllocationRequest, Bounds, Group, allocate
from optimizer.solver.feasibility import best_cpa
from optimizer.solver.prepare import prepare
from tests.optimizer.solver.solver_helpers import to_micros


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return random_table(60, seed=31, campaigns=6)


def _refused(table: pd.DataFrame, solver: str = "highs", **kwargs) -> InfeasibleError:
    base = {
        "currency": "EUR",
        "budget_micros": to_micros(float(table["current_spend"].sum())),
        "solver": solver,
    }
    with pytest.raises(InfeasibleError) as caught:
        allocate(table, AllocationRequest(**{**base, **kwargs}))
    return caught.value


def test_sum_of_minimums_above_the_cap(table) -> None:
    trusted = table.assign(trust_low=0.5 * table["current_spend"])
    ids = trusted["entity_id"]
    error = _refused(
        trusted,
        budget_micros=to_micros(3000.0),
        entity_bounds={ids[0]: Bounds(minimum_micros=to_micros(4000.0))},
    )
    assert error.message.startswith("sum of minimums ")
    assert "exceeds the cap 3,000.00 (entity minimums 4,000.00, trust-region floors " in (
        error.message
    )
    assert set(error.conflicts) == {"cap", "entity_min", "trust_low"}


def test_locked_spend_above_the_cap(table) -> None:
    locked = frozenset(table["entity_id"])
    error = _refused(table, budget_micros=to_micros(10.0), locked=locked)
    assert error.message.startswith("locked spend ")
    assert "exceeds the cap 10.00" in error.message
    assert set(error.conflicts) == {"cap", "locked"}


def test_contradictory_entity_bounds(table) -> None:
    entity = table["entity_id"][3]
    new = table.assign(current_spend=table["current_spend"].where(table["entity_id"] != entity, 0))
    error = _refused(new, entity_bounds={entity: Bounds(minimum_micros=to_micros(1000.0))})
    assert error.message.startswith("1 entity has contradictory bounds: ")
    assert "its minimum (1,000.00) is above the zero budget of an entity without" in error.message
    assert error.conflicts == (f"entity:{entity}",)


def test_max_change_yields_to_a_bound_a_person_set(table) -> None:
    """The person's minimum is hard, the max-change limit soft: the plan keeps the minimum and
    names the limit that gave way."""
    entity = table["entity_id"][3]
    request = AllocationRequest(
        currency="EUR",
        budget_micros=to_micros(float(table["current_spend"].sum()) + 1000.0),
        max_change=0.1,
        entity_bounds={entity: Bounds(minimum_micros=to_micros(1000.0))},
    )
    allocation = allocate(table, request)
    row = allocation.entities.set_index("entity_id").loc[entity]
    assert row["recommended_micros"] >= to_micros(1000.0)
    assert [(r.constraint, r.entities, r.reason) for r in allocation.relaxations] == [
        ("max_change", 1, "entity_bounds")
    ]
    assert "yield to the bounds a person set" in allocation.relaxations[0].text


def test_campaign_minimum_beyond_its_entities(table) -> None:
    name = table["campaign"][0]
    error = _refused(
        table, max_change=0.5, campaign_bounds={name: Bounds(minimum_micros=to_micros(1e6))}
    )
    assert f"campaign '{name}': its minimum 1,000,000.00 is more than its entities may" in (
        error.message
    )
    assert f"campaign:{name}" in error.conflicts


def test_group_floor_above_the_cap(table) -> None:
    error = _refused(
        table,
        budget_micros=to_micros(100.0),
        groups=(Group(name="brand", match="brand*", min_amount_micros=to_micros(500.0)),),
    )
    assert "group 'brand' floor 500.00 is above the cap 100.00" in error.message
    assert set(error.conflicts) == {"group:brand", "cap"}


def test_group_cap_below_its_minimums(table) -> None:
    error = _refused(
        table,
        max_change=0.2,
        groups=(Group(name="brand", match="brand*", max_amount_micros=to_micros(1.0)),),
    )
    assert "group 'brand' cap 1.00 is below its entities' minimums" in error.message


def test_group_shares_that_cannot_add_up(table) -> None:
    groups = (
        Group(name="brand", match="brand*", min_share=0.7),
        Group(name="generic", match="generic*", min_share=0.5),
    )
    error = _refused(table, groups=groups)
    assert error.message == "group minimum shares add up to 120% of spend"


@pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])
def test_target_cpa_out_of_reach(table, solver) -> None:
    error = _refused(table, solver=solver, target_cpa_micros=to_micros(0.01), max_change=0.5)
    assert error.message.startswith(
        "target CPA 0.01 is unreachable: the best CPA within bounds is "
    )
    assert error.conflicts == ("target_cpa",)


def test_target_roas_out_of_reach(table) -> None:
    error = _refused(table, target_roas=1000.0, max_change=0.5)
    assert error.message.startswith("target ROAS 1,000.00 is unreachable: the best ROAS within")


def test_conversions_target_out_of_reach(table) -> None:
    error = _refused(
        table, objective="min_cost", conversions_target=1e6, budget_micros=None, max_change=0.5
    )
    assert error.message.startswith("conversions target 1,000,000.00 is unreachable: at most ")


@pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])
def test_target_cpa_out_of_reach_only_with_a_group_cap(table, solver) -> None:
    """The ratio bound before solving cannot see group rows; the LP's diagnosis finds the best CPA
    those allow and reports it."""
    request = AllocationRequest(currency="EUR", max_change=0.5, solver=solver)
    best = best_cpa(prepare(table, request).base, float("inf"))
    target = 1.01 * best
    allocate(table, dataclasses.replace(request, target_cpa_micros=to_micros(target)))
    floor = 0.5 * float(table["current_spend"].sum())
    everything = (Group(name="all", match="*", max_amount_micros=to_micros(floor + 1.0)),)
    error = _refused(
        table,
        solver=solver,
        budget_micros=None,
        max_change=0.5,
        target_cpa_micros=to_micros(target),
        groups=everything,
    )
    shown = format_money(to_micros(target), "EUR").removesuffix(" EUR")
    prefix = f"target CPA {shown} is unreachable with the other constraints: the best CPA "
    assert error.message.startswith(prefix + "within them is ")
    reported = float(error.message.removeprefix(prefix + "within them is ").replace(",", ""))
    assert reported > target
    assert error.conflicts == ("target_cpa",)


@pytest.mark.parametrize("solver", ["highs", "cbc"], ids=["highs", "cbc"])
def test_constraints_that_only_clash_together(table, solver) -> None:
    current = table.groupby("campaign")["current_spend"].sum()
    pair = list(current.index[:2])
    bounds = {name: Bounds(minimum_micros=to_micros(0.9 * float(current[name]))) for name in pair}
    labels = {name: "pair" for name in pair}
    groups = (
        Group(
            name="pair",
            match="pair",
            by="label",
            max_amount_micros=to_micros(0.8 * current[pair].sum()),
        ),
    )
    error = _refused(
        table,
        solver=solver,
        max_change=0.5,
        campaign_bounds=bounds,
        groups=groups,
        campaign_labels=labels,
    )
    assert error.message.startswith("no allocation meets these constraints together: ")
    assert "group 'pair' limits" in error.message
    assert "group:pair" in error.conflicts
    assert any(name.startswith("campaign:") for name in error.conflicts)
