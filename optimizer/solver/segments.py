"""Concave curves -> piecewise-linear segments, with breakpoints placed where the curve bends.

On a short stretch of length h where the curvature is |f''|, a chord misses the curve by about
|f''| h^2 / 8. Spacing the breakpoints so that each segment holds an equal share of the integral of
sqrt(|f''|) (equidistribution) makes those gaps equal, and n = ceil(I / sqrt(8 tol)) segments bring
the largest gap under `tol`, where I is the whole integral. The integral is estimated on a fine
grid, denser near the lower end (where saturating curves bend most), from the midpoint gap of each
grid step, so no second derivative is needed and curves with an infinite slope at zero are fine.

Chords of a concave curve have decreasing slopes, so the LP fills an entity's segments in order
without integer variables. An S-shaped curve (`entry_points`) is convex below its inflection: from
its lower bound the best first step is the chord to where that chord touches the curve (its
minimum efficient spend beyond the lower bound, the point with the best average return), and the
curve is concave beyond it. Its first segment is that chord, taken whole or not at all (a binary
column); its other segments are the concave curve beyond, filled only when the first is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.solver.curves import EntityCurves, FloatArray, IntArray

__all__ = ["Segments", "build_segments", "entry_points", "with_entries"]

_GRID = 64
_NEAR_ZERO = 1e-4
_KEY_STEP = 1e-9
_BISECTIONS = 80


@dataclass(frozen=True, eq=False)
class Segments:
    """One LP column per segment, entity-major: column j belongs to entity `owner[j]`.

    `length` is the segment's spend range and `gain` the conversions it adds; `count` is the number
    of segments per entity (0 for an entity whose bounds pin it). `binary` marks the columns taken
    whole or not at all (the entry chord of an S-shaped curve; None: none).
    """

    owner: IntArray
    length: FloatArray
    gain: FloatArray
    count: IntArray
    binary: npt.NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.owner)

    def entity_totals(self, per_column: FloatArray, entities: int) -> FloatArray:
        """Sum a per-column quantity into one value per entity."""
        return np.bincount(self.owner, weights=per_column, minlength=entities).astype(np.float64)


def build_segments(
    curves: EntityCurves,
    lower: FloatArray,
    upper: FloatArray,
    *,
    tolerance: float,
    max_segments: int,
) -> Segments:
    """Adaptive segments of every entity's curve over [lower, upper]; see the module docstring."""
    n = len(curves)
    active = np.flatnonzero(upper > lower)
    if active.size == 0:
        empty = np.zeros(0, dtype=np.float64)
        return Segments(np.zeros(0, dtype=np.int64), empty, empty, np.zeros(n, dtype=np.int64))
    lo, hi = lower[active], upper[active]
    sub = _subset(curves, active)
    grid = _grid(lo, hi)
    values = sub.value(grid)
    midpoints = sub.value(0.5 * (grid[:, 1:] + grid[:, :-1]))
    gap = np.maximum(midpoints - 0.5 * (values[:, 1:] + values[:, :-1]), 0.0)
    measure = np.concatenate(
        [np.zeros((len(active), 1)), np.cumsum(np.sqrt(8.0 * gap), axis=1)], axis=1
    )
    total = measure[:, -1]
    allowed = tolerance * np.maximum(values[:, -1], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.ceil(total / np.sqrt(8.0 * allowed))
    pieces = np.clip(np.nan_to_num(needed, nan=1.0, posinf=max_segments), 1, max_segments)
    pieces = pieces.astype(np.int64)
    breaks = _breakpoints(grid, measure, total, pieces)
    at_breaks = sub.value(breaks)
    length = np.diff(breaks, axis=1)
    gain = np.diff(at_breaks, axis=1)
    keep = length > 1e-9 * np.maximum(hi, 1.0)[:, None]
    owner = np.broadcast_to(active[:, None], keep.shape)[keep]
    count = np.zeros(n, dtype=np.int64)
    count[active] = keep.sum(axis=1)
    return Segments(
        owner=owner.astype(np.int64),
        length=length[keep],
        gain=np.maximum(gain[keep], 0.0),
        count=count,
    )


def _subset(curves: EntityCurves, rows: IntArray) -> EntityCurves:
    return EntityCurves(
        families=curves.families,
        masks=tuple(mask[rows] for mask in curves.masks),
        params={name: values[rows] for name, values in curves.params.items()},
        multiplier=curves.multiplier[rows],
    )


def _grid(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Grid points from lo to hi, geometric in (x - lo + d): dense near lo when lo is small."""
    span = hi - lo
    offset = np.maximum(lo, _NEAR_ZERO * span)
    growth = np.log1p(span / offset)
    t = np.linspace(0.0, 1.0, _GRID)
    grid: FloatArray = lo[:, None] + offset[:, None] * np.expm1(growth[:, None] * t[None, :])
    grid[:, 0] = lo
    grid[:, -1] = hi
    return grid


def _breakpoints(
    grid: FloatArray, measure: FloatArray, total: FloatArray, pieces: IntArray
) -> FloatArray:
    """Invert each row's cumulative measure at `pieces` equal steps, all rows in one np.interp call.

    Row r's normalised measure is shifted to [r, r + 0.5] so the rows form one increasing sequence;
    rows with fewer pieces repeat their upper end, and those zero-length segments are dropped later.
    """
    rows, points = grid.shape
    steps = int(pieces.max())
    uniform = np.linspace(0.0, 1.0, points)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[:, None] > 0, measure / total[:, None], uniform[None, :])
    share = (share + _KEY_STEP * np.arange(points)[None, :]) / (1.0 + _KEY_STEP * points)
    offsets = np.arange(rows, dtype=np.float64)[:, None]
    keys = (offsets + 0.5 * share).ravel()
    fraction = np.minimum(np.arange(steps + 1)[None, :], pieces[:, None]) / pieces[:, None]
    queries = (offsets + 0.5 * fraction * share[:, -1:]).ravel()
    breaks = np.interp(queries, keys, grid.ravel()).reshape(rows, steps + 1)
    breaks[:, 0] = grid[:, 0]
    breaks[np.arange(steps + 1)[None, :] >= pieces[:, None]] = np.repeat(
        grid[:, -1], steps + 1 - np.minimum(pieces, steps)
    )
    return np.maximum.accumulate(breaks, axis=1)


def entry_points(
    curves: EntityCurves,
    lower: FloatArray,
    upper: FloatArray,
    shaped: npt.NDArray[np.bool_],
) -> FloatArray:
    """Per entity, where its concave part starts above its lower bound: for an S-shaped entity
    (`shaped`, Hill parameters k and s > 1) whose lower bound is below its inflection point, the
    point where the chord from the lower bound touches the curve (at most its upper bound); the
    lower bound for every other entity."""
    entry = lower.copy()
    k, s = curves.params["k"], curves.params["s"]
    with np.errstate(divide="ignore", invalid="ignore"):
        inflection = np.where(shaped & (s > 1), k * np.power((s - 1) / (s + 1), 1 / s), 0.0)
    rows = np.flatnonzero(shaped & (inflection > lower) & (upper > lower))
    if rows.size == 0:
        return entry
    sub = _subset(curves, rows)
    lo, hi = lower[rows], upper[rows]
    base = sub.value(lo)

    def gap(t: FloatArray) -> FloatArray:
        return np.asarray(sub.slope(t) * (t - lo) - (sub.value(t) - base), dtype=np.float64)

    a, b = np.minimum(inflection[rows], hi), hi.copy()
    for _ in range(_BISECTIONS):
        mid = 0.5 * (a + b)
        above = gap(mid) > 0
        a, b = np.where(above, mid, a), np.where(above, b, mid)
    entry[rows] = np.where(gap(hi) >= 0, hi, 0.5 * (a + b))
    return entry


def with_entries(
    curves: EntityCurves, lower: FloatArray, entry: FloatArray, segments: Segments
) -> Segments:
    """`segments` (of the curves from `entry` up) with each entry chord (lower -> entry, where entry
    is above lower) put first among its entity's columns as a binary column."""
    jumps = np.flatnonzero(entry > lower)
    if jumps.size == 0:
        return segments
    gain = curves.value(entry)[jumps] - curves.value(lower)[jumps]
    owner = np.concatenate([jumps, segments.owner])
    first = np.concatenate([np.zeros(jumps.size), np.ones(len(segments))])
    order = np.lexsort((first, owner))
    count = segments.count.copy()
    count[jumps] += 1
    return Segments(
        owner=owner[order].astype(np.int64),
        length=np.concatenate([entry[jumps] - lower[jumps], segments.length])[order],
        gain=np.concatenate([np.maximum(gain, 0.0), segments.gain])[order],
        count=count,
        binary=(first == 0)[order],
    )
