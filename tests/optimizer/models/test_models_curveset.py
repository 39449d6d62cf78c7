"""CurveSet persistence and the solver's curve table."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pytest

from optimizer.curve_table import CURVE_TABLE_COLUMNS, validate_curve_table
from optimizer.errors import InvalidInputError, NotFoundError
from optimizer.families import FAMILIES
from optimizer.models import CurveSet, entity_id
from optimizer.schema import EntityKey


def test_json_round_trip_is_exact(thin_fit: CurveSet) -> None:
    text = thin_fit.to_json()
    again = CurveSet.from_json(text)
    assert again == thin_fit
    assert again.to_json() == text


def test_stored_curves_rebuild_their_estimators(small_fit: CurveSet) -> None:
    again = CurveSet.from_json(small_fit.to_json())
    spend = np.linspace(0.0, 100.0, 7)
    for before, after in zip(small_fit, again, strict=True):
        estimator = after.estimator()
        assert estimator.lookup_name == before.lookup_name
        assert np.array_equal(estimator.predict(spend[:, None]), before.expected(spend))


def test_table_has_the_solver_columns_and_passes_its_check(small_fit: CurveSet) -> None:
    day = small_fit.window_end + dt.timedelta(days=1)
    table = small_fit.table(day)
    assert tuple(table.columns) == CURVE_TABLE_COLUMNS
    assert len(table) == len(small_fit)
    validate_curve_table(table)
    for row, curve in zip(table.itertuples(index=False), small_fit, strict=True):
        expected = curve.dow[day.weekday()] * np.exp(curve.tau * 1)
        assert row.multiplier == pytest.approx(expected)
        names = FAMILIES[row.family].param_names
        for p in ("a", "k", "s", "b"):
            assert np.isnan(getattr(row, p)) == (p not in names)


def test_entity_ids_are_stable_and_unique(small_fit: CurveSet) -> None:
    key = EntityKey("Brand", "Shoes", "running shoes", "exact")
    joined = "\x1f".join(["Brand", "Shoes", "running shoes", "exact"]).encode()
    assert entity_id(key) == hashlib.sha1(joined).hexdigest()[:16]
    ids = [c.entity_id for c in small_fit]
    assert len(set(ids)) == len(ids)


def test_get_finds_a_curve_or_raises_not_found(small_fit: CurveSet) -> None:
    first = small_fit.curves[0]
    assert small_fit.get(first.key) is first
    with pytest.raises(NotFoundError):
        small_fit.get(EntityKey("no such campaign"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(version=99),
        lambda p: p.pop("curves"),
        lambda p: p["curves"][0].update(lookup_name="spline"),
        lambda p: p["curves"][0].update(dow=[1.0, 1.0]),
        lambda p: p["curves"][0]["params"].pop("a"),
    ],
    ids=["version", "no-curves", "unknown-family", "short-dow", "missing-param"],
)
def test_corrupt_json_is_invalid_input(small_fit: CurveSet, mutate) -> None:
    payload = json.loads(small_fit.to_json())
    mutate(payload)
    with pytest.raises(InvalidInputError):
        CurveSet.from_json(json.dumps(payload))


def test_not_json_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        CurveSet.from_json("{not json")
