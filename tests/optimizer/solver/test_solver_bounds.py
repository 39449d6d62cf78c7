"""Entity ranges: user bounds are hard, the trust region is intersected, ends on the cent grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from solver_helpers import random_table

from optimizer.errors import InvalidInputError
from optimizer.solver import AllocationRequest, Bounds
from optimizer.solver.bounds import entity_bounds
from tests.optimizer.solver.solver_helpers import to_micros

CENT = 10_000


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    frame = random_table(6, seed=61)
    frame["current_spend"] = [10.0, 20.0, 30.0, 40.0, 0.0, 12.345]
    frame["trust_low"] = [0.0, 5.0, 0.0, 50.0, 0.0, 0.0]
    frame["trust_high"] = [100.0, 100.0, 33.0, 60.0, 80.0, 100.0]
    return frame


def _bounds(table, **kwargs):
    request = AllocationRequest(currency="EUR", **kwargs)
    return entity_bounds(table, request, CENT)


def test_max_change_trust_and_their_sources(table) -> None:
    bounds = _bounds(table, max_change=0.5)
    assert bounds.lower.tolist()[:4] == [5.0, 10.0, 15.0, 50.0]
    assert bounds.lower_source.tolist()[:4] == [
        "max_change",
        "max_change",
        "max_change",
        "trust_low",
    ]
    assert bounds.upper.tolist()[:4] == [15.0, 30.0, 33.0, 60.0]
    assert bounds.upper_source.tolist()[:4] == [
        "max_change",
        "max_change",
        "trust_high",
        "max_change",
    ]


def test_trust_region_outside_the_user_range_pins_the_nearest_end(table) -> None:
    bounds = _bounds(table, max_change=0.1)
    assert bounds.lower[3] == bounds.upper[3] == 44.0
    assert bounds.lower_source[3] == "trust_low"


def test_entities_without_spend_stay_at_zero_unless_allowed(table) -> None:
    assert _bounds(table).upper[4] == 0.0
    assert _bounds(table).upper_source[4] == "no_history"
    assert _bounds(table, allow_new=True).upper[4] == 80.0


def test_entity_bounds_and_locks(table) -> None:
    ids = table["entity_id"]
    bounds = _bounds(
        table,
        entity_bounds={
            ids[0]: Bounds(minimum_micros=to_micros(12.0), maximum_micros=to_micros(14.0))
        },
        locked={ids[5]},
    )
    assert (bounds.lower[0], bounds.upper[0]) == (12.0, 14.0)
    assert (bounds.lower_source[0], bounds.upper_source[0]) == ("entity_min", "entity_max")
    assert bounds.lower[5] == bounds.upper[5] == 12.34
    assert bounds.upper_source[5] == "locked"


def test_ends_are_on_the_minor_unit_grid(table) -> None:
    bounds = _bounds(table, max_change=0.333)
    assert (bounds.lower_micros % CENT == 0).all()
    assert (bounds.upper_micros % CENT == 0).all()
    current = table["current_spend"].to_numpy()
    existing = current > 0
    assert (bounds.lower[existing] >= current[existing] * 0.667 - 1e-9).all()
    assert (bounds.upper[existing] <= current[existing] * 1.333 + 1e-9).all()
    assert np.all(bounds.lower <= bounds.upper)


def test_unknown_entity_ids_are_an_input_error(table) -> None:
    with pytest.raises(InvalidInputError, match="not in the curve table: nope"):
        _bounds(table, entity_bounds={"nope": Bounds(maximum_micros=to_micros(1.0))})
    with pytest.raises(InvalidInputError, match="locked entities"):
        _bounds(table, locked={"nope"})
