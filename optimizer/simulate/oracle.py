"""The exact optimal allocation under the true curves: the yardstick for the LP solver.

Maximises `sum_i w_i * m_i * f_i(x_i)` subject to `sum_i x_i <= budget` and `lower <= x <= upper`,
where `f_i` is entity i's Hill curve, `m_i` its calendar factor and `w_i` an optional weight (e.g.
order value). Every `f_i` is concave, so the optimum equalises the marginal return `lambda` across
entities strictly inside their bounds. `lambda` is found by bisection on its logarithm; for each
trial value every entity's spend is the inverse of its marginal curve, solved by Newton's method on
`log(x / k)`, where the log-marginal is concave: started from an upper bound, the iterates fall
monotonically onto the root.
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
