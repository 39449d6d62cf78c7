"""The exact optimal allocation under the true curves: the yardstick for the LP solver.

Maximises `sum_i w_i * m_i * f_i(x_i)` subject to `sum_i x_i <= budget` and `lower <= x <= upper`,
where `f_i` is entity i's Hill curve, `m_i` its calendar factor and `w_i` an optional weight (e.g.
order value). Every `f_i` is concave, so the optimum equalises the marginal return `lambda` across
entities strictly inside their bounds. `lambda` is found by bisection on its logarithm; for each
trial value every entity's spend is the inverse of its marginal curve, solved by Newton's method on
`log(x / k)`, where the log-marginal is concave: started from an upper bound, the iterates fall
monotonically onto the root.

S-shaped curves (shape > 1) make the problem non-convex. Each is then replaced by its concave
envelope over its bounds: the chord from its lower bound to the point where the chord touches the
curve, then the curve. Equal marginal returns on the envelopes solve the relaxed problem exactly,
and at most the entities whose chord slope equals the common marginal return sit inside a chord.
Each such entity is then rounded to the better end of its chord (staying at its lower bound, or
spending at least the touching point), one at a time, the rest re-solved each time. The answer is
feasible and scored on the true curves; it is optimal up to that rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from optimizer.errors import InfeasibleError, InvalidInputError
from optimizer.simulate.truth import (
    MAX_SHAPE,
    CurveParams,
    FloatArray,
    IntLike,
    TrueCurve,
    expected_conversions,
    marginal_conversions,
)

__all__ = ["OracleResult", "optimal_allocation"]

_NEWTON_STEPS = 200
_NEWTON_TOLERANCE = 1e-14
_BISECTION_STEPS = 200
_BISECTION_TOLERANCE = 1e-15
_BRACKET_FACTOR = 16.0
_BRACKET_STEPS = 600

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class OracleResult:
    """The optimal spend per entity, the objective it reaches and the common marginal return.

    `lambda_` is the objective gained per extra unit of money at the optimum: 0 when the budget does
    not bind, and infinite when the budget only covers lower bounds at which some curve is vertical
    (shape < 1 at zero spend). `spent` is `allocation.sum()`.
    """

    allocation: FloatArray
    objective: float
    lambda_: float

    @property
    def spent(self) -> float:
        return float(self.allocation.sum())


def optimal_allocation(
    curves: Sequence[TrueCurve] | CurveParams,
    budget: float,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    *,
    weekday: IntLike | None = None,
    day_index: IntLike | None = None,
    weights: npt.ArrayLike | None = None,
) -> OracleResult:
    """Maximise expected conversions (or, with `weights`, a weighted sum) within budget and bounds.

    `upper` may be infinite. Raises InfeasibleError when the lower bounds alone exceed the budget.
    """
    params = curves if isinstance(curves, CurveParams) else CurveParams.from_curves(curves)
    n = len(params)
    low, high = _bounds(lower, upper, n)
    if not (math.isfinite(budget) and budget >= 0):
        raise InvalidInputError(f"budget must be a non-negative finite amount, got {budget}")
    weight = _weights(weights, n)
    gain = params.multiplier(weekday, day_index) * weight

    floor = math.fsum(low)
    if floor > budget:
        raise InfeasibleError(
            f"the lower bounds add up to {floor:.2f}, more than the budget of {budget:.2f}",
            conflicts=("budget", "lower bounds"),
        )
    scale = params.vmax * gain
    live = scale > 0
    cap = np.where(live, high, low)
    if math.fsum(cap) <= budget:
        return _result(params, cap, gain, 0.0)
    if floor == budget:
        with np.errstate(invalid="ignore"):
            slope = marginal_conversions(params, low) * gain
        growable = live & (high > low)
        return _result(params, low, gain, float(slope[growable].max(initial=0.0)))

    if np.any(params.shape[live] > MAX_SHAPE):
        return _s_shaped_allocation(params, scale, live, low, high, budget, gain)

    problem = _Problem(params, scale, live, low, high)
    lam_lo, lam_hi, y_lo, y_hi = problem.bracket(budget)
    for _ in range(_BISECTION_STEPS):
        if lam_hi / lam_lo - 1.0 <= _BISECTION_TOLERANCE:
            break
        lam = math.sqrt(lam_lo) * math.sqrt(lam_hi)
        y = problem.log_t(lam, y_lo)
        if problem.total(y) >= budget:
            lam_lo, y_lo = lam, y
        else:
            lam_hi, y_hi = lam, y
    x_lo, x_hi = problem.spend(y_lo), problem.spend(y_hi)
    over, under = math.fsum(x_lo), math.fsum(x_hi)
    share = 0.0 if over <= under else (budget - under) / (over - under)
    allocation = np.clip(x_hi + share * (x_lo - x_hi), low, high)
    return _result(params, allocation, gain, math.sqrt(lam_lo) * math.sqrt(lam_hi))


class _Problem:
    """The per-entity inverse of the marginal curve, in t = x / k, vectorised over live entities."""

    def __init__(
        self,
        params: CurveParams,
        scale: FloatArray,
        live: npt.NDArray[np.bool_],
        low: FloatArray,
        high: FloatArray,
    ) -> None:
        self.live = live
        self.low, self.high = low, high
        self.k = params.k[live]
        self.s = params.shape[live]
        self.log_s = np.log(self.s)
        self.log_k_over_a = np.log(self.k) - np.log(scale[live])
        self.linear = self.s == 1.0
        self.scale = scale

    def log_t(self, lam: float, start: FloatArray | None = None) -> FloatArray:
        """log(x / k) where each live entity's marginal return is `lam` (-inf: below it at 0)."""
        log_c = math.log(lam) + self.log_k_over_a
        s = self.s
        excess = log_c - self.log_s
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bound = np.minimum(excess / (s - 1.0), -excess / (1.0 + s))
            y = bound if start is None else np.minimum(bound, start)
            y = np.where(self.linear, 0.0, y)
            for _ in range(_NEWTON_STEPS):
                sy = s * y
                phi = self.log_s + (s - 1.0) * y - 2.0 * np.logaddexp(0.0, sy) - log_c
                step = np.where(self.linear, 0.0, phi / ((s - 1.0) - 2.0 * s * expit(sy)))
                y = y - step
                if not np.any(np.abs(step) > _NEWTON_TOLERANCE * np.maximum(1.0, np.abs(y))):
                    break
            root_c = np.exp(0.5 * log_c)
            closed = np.where(root_c < 1.0, np.log1p(-root_c) - 0.5 * log_c, -np.inf)
        result: FloatArray = np.where(self.linear, closed, y)
        return result

    def spend(self, y: FloatArray) -> FloatArray:
        x = self.low.copy()
        with np.errstate(over="ignore"):
            x[self.live] = self.k * np.exp(y)
        clipped: FloatArray = np.clip(x, self.low, self.high)
        return clipped

    def total(self, y: FloatArray) -> float:
        return float(self.spend(y).sum())

    def bracket(self, budget: float) -> tuple[float, float, FloatArray, FloatArray]:
        """Marginal returns lam_lo < lam_hi whose spends straddle the budget, and their log_t."""
        lam = self._first_guess(budget)
        y = self.log_t(lam)
        if self.total(y) >= budget:
            lam_lo, y_lo = lam, y
            for _ in range(_BRACKET_STEPS):
                lam_hi = lam_lo * _BRACKET_FACTOR
                y_hi = self.log_t(lam_hi, y_lo)
                if self.total(y_hi) <= budget:
                    return lam_lo, lam_hi, y_lo, y_hi
                lam_lo, y_lo = lam_hi, y_hi
        else:
            lam_hi, y_hi = lam, y
            for _ in range(_BRACKET_STEPS):
                lam_lo = lam_hi / _BRACKET_FACTOR
                y_lo = self.log_t(lam_lo)
                if self.total(y_lo) >= budget:
                    return lam_lo, lam_hi, y_lo, y_hi
                lam_hi, y_hi = lam_lo, y_lo
        raise InvalidInputError("the curves are too extreme to locate the optimal marginal return")

    def _first_guess(self, budget: float) -> float:
        """The median marginal return at an even split of the budget: a few brackets off at most."""
        even = np.clip(budget / self.live.size, self.low, self.high)[self.live]
        t = np.maximum(even / self.k, 1e-12)
        ts = t**self.s
        slope = self.scale[self.live] / self.k * self.s * ts / (t * (1.0 + ts) ** 2)
        return float(np.median(slope))


def _bounds(lower: npt.ArrayLike, upper: npt.ArrayLike, n: int) -> tuple[FloatArray, FloatArray]:
    low = np.asarray(lower, dtype=np.float64)
    high = np.asarray(upper, dtype=np.float64)
    if low.shape != (n,) or high.shape != (n,):
        raise InvalidInputError(f"lower and upper need one bound per entity ({n})")
    if not np.all(np.isfinite(low)) or np.any(low < 0):
        raise InvalidInputError("lower bounds must be non-negative finite amounts")
    if np.any(np.isnan(high)) or np.any(high < low):
        raise InvalidInputError("every upper bound must be at least its lower bound")
    return low, high


def _weights(weights: npt.ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    weight = np.asarray(weights, dtype=np.float64)
    if weight.shape != (n,) or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise InvalidInputError(f"weights need one non-negative finite number per entity ({n})")
    return weight


def _result(
    params: CurveParams, allocation: FloatArray, gain: FloatArray, lam: float
) -> OracleResult:
    value = expected_conversions(params, allocation) * gain
    return OracleResult(allocation=allocation, objective=math.fsum(value), lambda_=lam)


_S_BISECTIONS = 100
_S_LAMBDA_STEPS = 200
_LOG_X_SPAN = 40.0


@dataclass(frozen=True, eq=False)
class _Branches:
    """Per live entity: where its envelope leaves the chord for the curve (`start`), the chord slope
    from its lower bound to there (`chord`; inf when there is no chord, i.e. the curve is concave
    over the bounds), and the least spend of an entity held on its concave part (`least`: its
    inflection point or lower bound). `scale` multiplies the unit Hill curve (vmax x gain)."""

    scale: FloatArray
    k: FloatArray
    s: FloatArray
    low: FloatArray
    high: FloatArray
    start: FloatArray
    chord: FloatArray
    least: FloatArray

    def value(self, x: FloatArray) -> FloatArray:
        ratio = np.power(np.maximum(x, 0.0) / self.k, self.s)
        return np.asarray(self.scale * ratio / (1.0 + ratio), dtype=np.float64)

    def slope(self, x: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = np.maximum(x, 1e-300)
            ratio = np.power(xs / self.k, self.s)
            return np.asarray(
                self.scale * self.s * ratio / (xs * (1.0 + ratio) ** 2), dtype=np.float64
            )

    def on_branch(
        self, lam: float, rows: npt.NDArray[np.bool_], forced: npt.NDArray[np.bool_]
    ) -> FloatArray:
        """Spend on the concave part where the slope equals lam (bisection on log spend; the slope
        falls there), clipped to its ends: from `start`, or from `least` for `forced` rows."""
        first = np.where(forced, self.least, self.start)
        top = np.minimum(self.high, self.k * math.exp(_LOG_X_SPAN))
        lo = np.log(np.maximum(first, self.k * math.exp(-_LOG_X_SPAN)))
        hi = np.log(np.maximum(top, np.exp(lo)))
        for _ in range(_S_BISECTIONS):
            mid = 0.5 * (lo + hi)
            steep = self.slope(np.exp(mid)) > lam
            lo = np.where(steep, mid, lo)
            hi = np.where(steep, hi, mid)
        x = np.exp(0.5 * (lo + hi))
        x = np.where(self.slope(first) <= lam, first, x)
        x = np.where(self.slope(top) >= lam, top, x)
        return np.where(rows, np.clip(x, first, self.high), self.low)


def _s_shaped_allocation(
    params: CurveParams,
    scale: FloatArray,
    live: npt.NDArray[np.bool_],
    low: FloatArray,
    high: FloatArray,
    budget: float,
    gain: FloatArray,
) -> OracleResult:
    """The allocation through concave envelopes, chords rounded (see the module docstring)."""
    rows = np.flatnonzero(live)
    branches = _branches(params, scale, low, high, rows)
    decided: dict[int, bool] = {}
    room = budget - float(low[~live].sum())
    while True:
        found = _envelope_solution(branches, room, decided)
        if found is None:
            raise InvalidInputError("the S-shaped entities' decisions left no feasible budget")
        spend, lam, jumping = found
        open_jumps = [j for j in jumping if j not in decided]
        if not open_jumps:
            break
        j = open_jumps[0]
        options = []
        for choice in (False, True):
            trial = _envelope_solution(branches, room, {**decided, j: choice})
            if trial is not None:
                options.append((float(branches.value(trial[0]).sum()), choice))
        decided[j] = max(options)[1]
    spend, lam = _improve(branches, room, decided, spend, lam)
    allocation = low.copy()
    allocation[rows] = spend
    return _result(params, allocation, gain, lam)


def _improve(
    branches: _Branches,
    room: float,
    decided: dict[int, bool],
    spend: FloatArray,
    lam: float,
) -> tuple[FloatArray, float]:
    """Local search over the S-shaped entities' on/off choices: flip one at a time (all others as
    they are), keep a flip that earns more, until none does."""
    chordal = np.flatnonzero(np.isfinite(branches.chord))
    best = float(branches.value(spend).sum())
    state = {int(j): bool(spend[j] >= branches.start[j] * (1 - 1e-9)) for j in chordal}
    improved = True
    while improved:
        improved = False
        for j in chordal:
            trial = {**state, int(j): not state[int(j)]}
            found = _envelope_solution(branches, room, trial)
            if found is None:
                continue
            value = float(branches.value(found[0]).sum())
            if value > best * (1 + 1e-12):
                best, spend, lam, state, improved = value, found[0], found[1], trial, True
    return spend, lam


def _branches(
    params: CurveParams, scale: FloatArray, low: FloatArray, high: FloatArray, rows: IntArray
) -> _Branches:
    k, s = params.k[rows], params.shape[rows]
    lo, hi = low[rows], high[rows]
    unit = _Branches(scale[rows], k, s, lo, hi, lo.copy(), np.full(rows.size, np.inf), lo.copy())
    with np.errstate(divide="ignore", invalid="ignore"):
        inflection = np.where(s > 1.0, k * np.power((s - 1.0) / (s + 1.0), 1.0 / s), 0.0)
    convex_start = inflection > lo
    if not convex_start.any():
        return unit
    top = np.minimum(hi, k * math.exp(_LOG_X_SPAN))
    base = unit.value(lo)

    def gap(t: FloatArray) -> FloatArray:
        return np.asarray(unit.slope(t) * (t - lo) - (unit.value(t) - base), dtype=np.float64)

    a = np.minimum(np.maximum(inflection, lo), top)
    b = top.copy()
    reaches_top = gap(b) >= 0
    for _ in range(_S_BISECTIONS):
        mid = 0.5 * (a + b)
        above = gap(mid) > 0
        a = np.where(above, mid, a)
        b = np.where(above, b, mid)
    touch = np.where(reaches_top, top, 0.5 * (a + b))
    start = np.where(convex_start, touch, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        chord = np.where(
            convex_start & (start > lo), (unit.value(start) - base) / (start - lo), np.inf
        )
    least = np.clip(np.maximum(inflection, lo), lo, hi)
    return _Branches(unit.scale, k, s, lo, hi, start, chord, least)


def _envelope_solution(
    branches: _Branches, budget: float, decided: dict[int, bool]
) -> tuple[FloatArray, float, list[int]] | None:
    """Spend per live entity at the common marginal return of the envelopes that spends `budget`,
    entities in `decided` held off their branch (False) or on it (True); the return, and the
    entities left inside a chord (their share of the budget placed along it)."""
    n = branches.k.size
    off = np.zeros(n, dtype=bool)
    forced = np.zeros(n, dtype=bool)
    for j, on in decided.items():
        (forced if on else off)[j] = True
    chordal = np.isfinite(branches.chord)
    if float(np.where(forced, branches.least, branches.low).sum()) > budget * (1 + 1e-12):
        return None

    def spend(lam: float) -> FloatArray:
        active = ~off & (forced | ~chordal | (branches.chord >= lam))
        return branches.on_branch(lam, active, forced)

    peak = float(np.max(np.where(chordal, branches.chord, branches.slope(branches.start))))
    lam_hi = max(peak, 1e-300) * 2.0
    lam_lo = lam_hi * 1e-30
    if float(spend(lam_lo).sum()) <= budget:
        x = spend(lam_lo)
        return x, lam_lo, []
    for _ in range(_S_LAMBDA_STEPS):
        lam = math.sqrt(lam_lo * lam_hi)
        if float(spend(lam).sum()) >= budget:
            lam_lo = lam
        else:
            lam_hi = lam
        if lam_hi / lam_lo - 1.0 <= 1e-13:
            break
    x_lo, x_hi = spend(lam_lo), spend(lam_hi)
    jump = ~off & ~forced & chordal & (x_hi <= branches.low) & (x_lo >= branches.start)
    jump &= branches.start > branches.low
    remainder = budget - float(x_hi.sum())
    if jump.any():
        x = x_hi.copy()
        j = int(np.flatnonzero(jump)[0])
        x[j] = min(branches.low[j] + max(remainder, 0.0), branches.start[j])
        return x, math.sqrt(lam_lo * lam_hi), [int(i) for i in np.flatnonzero(jump)]
    over, under = float(x_lo.sum()), float(x_hi.sum())
    share = 0.0 if over <= under else (budget - under) / (over - under)
    x = np.clip(x_hi + share * (x_lo - x_hi), branches.low, branches.high)
    return x, math.sqrt(lam_lo * lam_hi), []
