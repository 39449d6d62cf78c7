"""Adaptive segments: within tolerance, concave, few, and covering exactly [lower, upper]."""

from __future__ import annotations

import numpy as np
import pytest
from solver_helpers import random_table

from optimizer.solver.curves import EntityCurves
from optimizer.solver.segments import build_segments


def _ranges(kind: str, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return {
        "half-to-double": (0.5 * current, 2.0 * current),
        "from-zero": (np.zeros_like(current), 3.0 * current),
        "narrow": (0.9 * current, 1.1 * current),
    }[kind]


def _worst_gap(curves: EntityCurves, segments, lower, upper, entity: int) -> float:
    """Largest curve - chord gap on a fine grid, as a fraction of the curve at the upper bound."""
    own = segments.owner == entity
    breaks = lower[entity] + np.concatenate([[0.0], np.cumsum(segments.length[own])])
    xs = np.linspace(lower[entity], upper[entity], 2001)
    n = len(curves)
    grid = np.zeros((n, xs.size))
    grid[entity] = xs
    exact = curves.value(grid)[entity]
    at_lower = curves.value(lower)[entity]
    chords = np.interp(
        xs, breaks, at_lower + np.concatenate([[0.0], np.cumsum(segments.gain[own])])
    )
    return float((exact - chords).max() / exact[-1])


@pytest.mark.parametrize(
    "kind", ["half-to-double", "from-zero", "narrow"], ids=["half-to-double", "from-zero", "narrow"]
)
def test_gap_stays_within_tolerance(kind: str) -> None:
    table = random_table(60, seed=3)
    curves = EntityCurves.from_table(table)
    lower, upper = _ranges(kind, table["current_spend"].to_numpy())
    segments = build_segments(curves, lower, upper, tolerance=1e-3, max_segments=64)
    worst = max(_worst_gap(curves, segments, lower, upper, i) for i in range(len(table)))
    assert worst <= 1.1e-3


def test_few_segments_over_a_typical_range() -> None:
    table = random_table(500, seed=4)
    curves = EntityCurves.from_table(table)
    lower, upper = _ranges("half-to-double", table["current_spend"].to_numpy())
    segments = build_segments(curves, lower, upper, tolerance=1e-3, max_segments=24)
    assert segments.count.mean() <= 8
    assert segments.count.max() <= 12


def test_segments_tile_the_range_with_decreasing_slopes() -> None:
    table = random_table(80, seed=5)
    curves = EntityCurves.from_table(table)
    lower, upper = _ranges("from-zero", table["current_spend"].to_numpy())
    segments = build_segments(curves, lower, upper, tolerance=1e-3, max_segments=24)
    np.testing.assert_allclose(
        segments.entity_totals(segments.length, 80), upper - lower, rtol=1e-12
    )
    gained = segments.entity_totals(segments.gain, 80)
    np.testing.assert_allclose(gained, curves.value(upper) - curves.value(lower), rtol=1e-9)
    slopes = segments.gain / segments.length
    same_entity = segments.owner[1:] == segments.owner[:-1]
    assert (np.diff(slopes)[same_entity] <= 1e-12).all()


def test_pinned_entities_get_no_segments() -> None:
    table = random_table(10, seed=6)
    curves = EntityCurves.from_table(table)
    current = table["current_spend"].to_numpy()
    upper = current.copy()
    upper[::2] = 2 * current[::2]
    segments = build_segments(curves, current, upper, tolerance=1e-3, max_segments=24)
    assert (segments.count[1::2] == 0).all()
    assert (segments.count[::2] > 0).all()
    assert set(segments.owner.tolist()) == set(range(0, 10, 2))


def test_max_segments_caps_the_count() -> None:
    table = random_table(40, seed=7)
    curves = EntityCurves.from_table(table)
    lower, upper = _ranges("from-zero", table["current_spend"].to_numpy())
    segments = build_segments(curves, lower, upper, tolerance=1e-6, max_segments=5)
    assert segments.count.max() == 5
