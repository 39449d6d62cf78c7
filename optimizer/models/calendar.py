"""Day-of-week factors and a slow trend per campaign, by penalised Poisson regression.

Demand moves with the weekday and drifts over months while spend stays put, and a curve fitted
without knowing that mistakes the calendar for a response to spend. Each campaign's daily
conversions are modelled as

    mu_t = F_t * dow[weekday_t] * exp(tau * (t - reference))

with F_t, the campaign's entity curves summed at that day's spends, as a fixed offset.
scikit-learn's PoissonRegressor takes no offset, so a few Newton (IRLS) steps are taken here on
eight parameters: seven log weekday factors, lightly shrunk toward 0, and tau, shrunk toward 0 by a
Gaussian prior on the yearly trend. The factors are normalised to average 1, so the curve carries
the level and the calendar only reshapes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CalendarFit", "exposure", "fit_calendar", "fit_calendar_terms", "multiplier"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DAYS_PER_YEAR = 365.0
_MAX_STEP = 1.0
_PROMO_PRECISION = 1.0
_ROBUST_ROUNDS = 3
_HUBER = 2.0
_CHI2_MEDIAN = 0.4549364231195724


def multiplier(dow: tuple[float, ...], tau: float, reference: dt.date, day: dt.date) -> float:
    """The demand factor on `day`: dow[weekday] * exp(tau * days from reference to day)."""
    return float(dow[day.weekday()] * np.exp(tau * (day - reference).days))


def exposure(
    dow: tuple[float, ...], tau: float, weekday: IntArray, offset_days: FloatArray
) -> FloatArray:
    """Daily factors for a day axis given each day's weekday and its distance from the reference."""
    return np.asarray(np.asarray(dow)[weekday] * np.exp(tau * offset_days), dtype=np.float64)


@dataclass(frozen=True)
class CalendarFit:
    """Weekday factors (Monday first, mean 1), the trend per day, and one factor per promotion."""

    dow: tuple[float, ...]
    tau: float
    promo: tuple[float, ...] = ()


def fit_calendar(
    conversions: FloatArray,
    log_offset: FloatArray,
    valid: npt.NDArray[np.bool_],
    weekday: IntArray,
    offset_days: FloatArray,
    *,
    dow_ridge: float,
    trend_prior_sd_per_year: float,
    iterations: int = 8,
) -> tuple[tuple[float, ...], float]:
    """Penalised Poisson MLE of weekday factors and tau; returns (dow normalised to mean 1, tau per
    day).

    `dow_ridge` is the precision of the Gaussian prior on each log factor (in conversions: a weekday
    needs about that many conversions before its own factor moves far from 1); a zero trend prior sd
    switches the trend off.
    """
    fit = fit_calendar_terms(
        conversions,
        log_offset,
        valid,
        weekday,
        offset_days,
        dow_ridge=dow_ridge,
        trend_prior_sd_per_year=trend_prior_sd_per_year,
        iterations=iterations,
    )
    return fit.dow, fit.tau


def fit_calendar_terms(
    conversions: FloatArray,
    log_offset: FloatArray,
    valid: npt.NDArray[np.bool_],
    weekday: IntArray,
    offset_days: FloatArray,
    *,
    dow_ridge: float,
    trend_prior_sd_per_year: float,
    iterations: int = 8,
    promo: FloatArray | None = None,
    weekdays: bool = True,
    robust: bool = False,
) -> CalendarFit:
    """`fit_calendar` with promotion terms, optional weekdays and robust day weights.

    promo: (promotions, days), the share of each day inside each promotion; each gets a log factor
    with a Gaussian prior of sd 1 (a promotion has to show itself). weekdays=False keeps the
    weekday factors at 1 (rows a week or more apart cannot show them). robust: after the first
    fit, days are re-weighted by Huber's rule on their Pearson residuals scaled by the
    over-dispersion (estimated from the median squared residual), so a run of unusual days that
    nobody marked pulls the trend much less.
    """
    y = np.where(valid, conversions, 0.0)
    off = np.where(valid, log_offset, 0.0)
    years = offset_days / _DAYS_PER_YEAR
    extra = np.zeros((0, y.size)) if promo is None else np.asarray(promo, dtype=np.float64)
    size = 8 + extra.shape[0]
    design = np.zeros((y.size, size))
    design[np.arange(y.size), weekday] = 1.0
    design[:, 7] = years
    design[:, 8:] = extra.T
    design = design * valid[:, None]
    precision = np.full(size, max(dow_ridge, 1e-9))
    use_trend = trend_prior_sd_per_year > 0
    precision[7] = 1.0 / trend_prior_sd_per_year**2 if use_trend else 1.0
    precision[8:] = _PROMO_PRECISION
    fixed = np.zeros(size, dtype=bool)
    fixed[7] = not use_trend
    fixed[:7] = not weekdays
    weights = np.ones(y.size)
    beta = np.zeros(size)
    for round_ in range(_ROBUST_ROUNDS if robust else 1):
        if round_:
            weights = _huber_weights(y, np.exp(off + design @ beta), valid)
        beta = _newton(y, off, design, valid, weights, precision, fixed, beta, iterations)
    factors = np.exp(beta[:7])
    factors = factors / factors.mean()
    return CalendarFit(
        dow=tuple(float(f) for f in factors),
        tau=float(beta[7] / _DAYS_PER_YEAR),
        promo=tuple(float(np.exp(b)) for b in beta[8:]),
    )


def _newton(
    y: FloatArray,
    off: FloatArray,
    design: FloatArray,
    valid: npt.NDArray[np.bool_],
    weights: FloatArray,
    precision: FloatArray,
    fixed: npt.NDArray[np.bool_],
    beta: FloatArray,
    iterations: int,
) -> FloatArray:
    for _ in range(iterations):
        mu = np.where(valid, np.exp(off + design @ beta), 0.0)
        grad = design.T @ (weights * (y - mu)) - precision * beta
        hess = (design * (weights * mu)[:, None]).T @ design + np.diag(precision)
        if fixed.any():
            grad[fixed] = 0.0
            hess[fixed, :] = 0.0
            hess[:, fixed] = 0.0
            hess[fixed, fixed] = 1.0
        step = np.linalg.solve(hess, grad)
        beta = beta + np.clip(step, -_MAX_STEP, _MAX_STEP)
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _huber_weights(y: FloatArray, mu: FloatArray, valid: npt.NDArray[np.bool_]) -> FloatArray:
    """min(1, c / |z|) with z the Pearson residual over the robustly estimated dispersion."""
    ok = valid & (mu > 0)
    if ok.sum() < 8:
        return np.ones(y.size)
    residual = np.where(ok, (y - mu) / np.sqrt(np.where(ok, mu, 1.0)), 0.0)
    dispersion = max(1.0, float(np.median(residual[ok] ** 2)) / _CHI2_MEDIAN)
    z = np.abs(residual) / np.sqrt(dispersion)
    return np.asarray(np.where(z > _HUBER, _HUBER / np.maximum(z, 1e-12), 1.0))
