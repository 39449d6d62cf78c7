"""A second, finer LP around the first answer, so each entity's spend (not only the total) is right.

The first LP puts almost every entity on a breakpoint, and breakpoints placed for a 0.1% curve error
are up to a quarter of the range apart: the total objective is within a hair of the optimum, but an
entity's recommended spend can be 10-30% away from its exact optimum. The second LP keeps every
constraint and gives each entity only the two segments next to its first answer, cut into finer
segments (so the first answer stays feasible): per-entity spends move several times closer to the
exact optimum for about the cost of the first solve. The better of the two answers on the curve
itself is kept.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from optimizer.errors import InfeasibleError, SolverError
from optimizer.solver.backends import LpSolution, open_session
from optimizer.solver.curves import FloatArray
from optimizer.solver.model import Baseline, build_program
from optimizer.solver.prepare import Prepared
from optimizer.solver.segments import Segments, build_segments

__all__ = ["refine", "windows"]

_log = logging.getLogger(__name__)

_SEGMENTS_PER_WINDOW = 6
_WINDOW_TOLERANCE = 1e-6


def windows(
    segments: Segments, origin: FloatArray, spend: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per entity, the span of the two segments around the breakpoint nearest to `spend`."""
    n = len(origin)
    if len(segments) == 0:
        return origin.copy(), origin.copy()
    owner = segments.owner
    starts = np.concatenate([[0], np.cumsum(segments.count)[:-1]])
    ends = starts + segments.count - 1
    offset = np.cumsum(segments.length) - segments.length
    left = origin[owner] + offset - offset[starts[owner]]
    right = left + segments.length
    eps = 1e-9 * np.maximum(np.abs(spend), 1.0)
    before = np.bincount(owner, weights=right < (spend - eps)[owner], minlength=n)
    has = segments.count > 0
    col = np.clip(starts + before.astype(np.int64), starts, np.maximum(ends, starts))
    col = np.where(has, col, 0)
    near_left = (spend - left[col]) <= (right[col] - spend)
    low_col = np.where(near_left & (col > starts), col - 1, col)
    high_col = np.where(~near_left & (col < ends), col + 1, col)
    low = np.where(has, left[low_col], origin)
    high = np.where(has, right[high_col], origin)
    return low, np.maximum(high, low)


def refine(prepared: Prepared, spend: FloatArray) -> tuple[Prepared, LpSolution] | None:
    """The finer LP around `spend`; None when it cannot improve on it (then keep the first).

    An S-shaped entity keeps the first answer's choice: left at its lower bound, or kept on its
    concave part (from its entry point up), so every window is concave and the finer LP has no
    binary column."""
    low, high = windows(prepared.segments, prepared.origin, spend)
    if prepared.entry is not None:
        shaped = prepared.entry > prepared.origin
        eps = 1e-9 * np.maximum(np.abs(spend), 1.0)
        off = shaped & (spend <= prepared.origin + eps)
        on = shaped & ~off
        low = np.where(off, prepared.origin, np.where(on, np.maximum(low, prepared.entry), low))
        high = np.where(off, prepared.origin, np.maximum(high, low))
    segments = build_segments(
        prepared.curves,
        low,
        high,
        tolerance=_WINDOW_TOLERANCE,
        max_segments=_SEGMENTS_PER_WINDOW,
    )
    base = Baseline.of(segments, low, prepared.curves.value(low), prepared.value_per_conversion)
    program = build_program(
        prepared.request,
        prepared.table,
        low,
        prepared.bounds.unit,
        segments,
        base,
        prepared.groups,
        prepared.campaign_limits,
        budget_micros=prepared.budget_micros,
    )
    finer = dataclasses.replace(prepared, segments=segments, base=base, program=program, origin=low)
    try:
        solution = open_session(program, prepared.request.solver).solve()
    except (InfeasibleError, SolverError) as exc:
        _log.warning("the refining LP failed (%s); keeping the first answer", exc.message)
        return None
    return finer, solution
