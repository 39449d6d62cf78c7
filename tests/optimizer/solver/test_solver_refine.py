"""The refining LP: windows around the first answer, and answers closer to the exact optimum."""

from __future__ import annotations

import numpy as np
import pytest
from solver_helpers import exact_optimum, random_table

from optimizer.solver import AllocationRequest, allocate
from optimizer.solver.refine import windows
from optimizer.solver.segments import Segments
from tests.optimizer.solver.solver_helpers import to_micros


def _segments(lengths: list[list[float]]) -> Segments:
    owner = np.concatenate([np.full(len(own), i) for i, own in enumerate(lengths)]).astype(np.int64)
    flat = np.concatenate([np.asarray(own, dtype=float) for own in lengths])
    count = np.array([len(own) for own in lengths], dtype=np.int64)
    return Segments(owner=owner, length=flat, gain=flat, count=count)


@pytest.mark.parametrize(
    ("spend", "expected"),
    [
        (10.0, (10.0, 11.0)),
        (13.0, (11.0, 16.0)),
        (11.5, (10.0, 13.0)),
        (15.5, (13.0, 20.0)),
        (20.0, (16.0, 20.0)),
    ],
    ids=["at-lower", "on-a-breakpoint", "nearer-left", "nearer-right", "at-upper"],
)
def test_window_spans_the_segments_around_the_nearest_breakpoint(spend, expected) -> None:
    segments = _segments([[1.0, 2.0, 3.0, 4.0], []])
    low, high = windows(segments, np.array([10.0, 7.0]), np.array([spend, 7.0]))
    assert (low[0], high[0]) == expected
    assert low[0] <= spend <= high[0]
    assert (low[1], high[1]) == (7.0, 7.0)


def test_refining_moves_each_entity_closer_to_its_exact_optimum() -> None:
    table = random_table(300, seed=91)
    current = table["current_spend"].to_numpy()
    budget = float(current.sum())
    low = np.ceil(np.maximum(0.3 * current, 0.0) * 100) / 100
    high = np.floor(np.minimum(1.7 * current, 4 * current) * 100) / 100
    exact, best = exact_optimum(table, np.floor(budget * 100) / 100, low, high)
    inside = (exact > low + 1) & (exact < high - 1)

    def error(refine: bool) -> tuple[float, float]:
        request = AllocationRequest(
            currency="EUR", budget_micros=to_micros(budget), max_change=0.7, refine=refine
        )
        result = allocate(table, request)
        spend = result.entities["recommended_spend"].to_numpy()
        return (
            float(np.median(np.abs(spend - exact)[inside] / exact[inside])),
            result.expected_conversions / best,
        )

    coarse, coarse_ratio = error(refine=False)
    fine, fine_ratio = error(refine=True)
    assert fine < coarse / 2
    assert fine_ratio >= coarse_ratio
    assert fine_ratio > 0.99999
