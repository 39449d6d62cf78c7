"""Requests are validated once, with messages that say what is wrong."""

from __future__ import annotations

import pytest
from solver_helpers import random_table

from optimizer.errors import InvalidInputError
from optimizer.solver import AllocationRequest, Bounds, Group, allocate
from tests.optimizer.solver.solver_helpers import to_micros

CASES = [
    ({"currency": "ABC"}, "ISO 4217"),
    ({"objective": "clicks"}, "unknown objective"),
    ({"budget_micros": to_micros(-1.0)}, "budget must be between 0 and"),
    ({"budget_micros": 10**19}, "budget must be between 0 and 1,000,000,000,000"),
    ({"budget_micros": 1500.0}, "budget must be whole micros"),
    ({"objective": "profit"}, "needs a margin"),
    ({"objective": "profit", "margin": 1.5}, "needs a margin"),
    ({"objective": "min_cost"}, "needs a conversions_target"),
    ({"max_change": -0.1}, "max_change must be a fraction"),
    ({"target_cpa_micros": to_micros(0.0)}, "target CPA must be a positive"),
    ({"target_roas": float("nan")}, "target ROAS must be a positive"),
    ({"entity_bounds": {"e1": (1, 2)}}, "must be Bounds values"),
    ({"groups": (Group("g", "*", max_share=0.5), Group("g", "b*", max_share=0.5))}, "unique"),
    ({"tolerance": 0.5}, "tolerance"),
    ({"solver": "gurobi"}, "unknown solver"),
]


@pytest.mark.parametrize(("changes", "message"), CASES, ids=[m for _, m in CASES])
def test_bad_requests_are_refused(changes, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        AllocationRequest(**{"currency": "EUR", **changes})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Bounds(minimum_micros=to_micros(5.0), maximum_micros=to_micros(1.0)),
            "must not exceed",
        ),
        (lambda: Bounds(maximum_micros=to_micros(-1.0)), "between 0 and"),
        (lambda: Group("brand", "brand*"), "sets no limit"),
        (lambda: Group("brand", "brand*", max_share=1.5), "at most 1"),
        (lambda: Group("brand", "brand*", by="sql", max_share=0.3), "unknown selector"),
        (lambda: Group(" ", "brand*", max_share=0.3), "needs a name"),
    ],
    ids=["min-above-max", "negative", "no-limit", "share-above-one", "selector", "name"],
)
def test_bad_bounds_and_groups_are_refused(make, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_an_empty_curve_table_is_refused() -> None:
    table = random_table(3, seed=1).iloc[:0]
    with pytest.raises(InvalidInputError, match="no entities"):
        allocate(table, AllocationRequest(currency="EUR", budget_micros=to_micros(10.0)))


def test_request_is_frozen_and_normalised() -> None:
    bounds = {"e1": Bounds(maximum_micros=to_micros(3.0))}
    request = AllocationRequest(currency="eur", entity_bounds=bounds, locked={"e2"})
    bounds["e3"] = Bounds()
    assert request.currency == "EUR"
    assert set(request.entity_bounds) == {"e1"}
    assert request.locked == frozenset({"e2"})
    with pytest.raises(TypeError):
        request.entity_bounds["e4"] = Bounds()  # type: ignore[index]
