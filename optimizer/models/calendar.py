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

import numpy as np
import numpy.typing as npt

__all__ = ["exposure", "fit_calendar", "multiplier"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DAYS_PER_YEAR = 365.0
_MAX_STEP = 1.0


def multiplier(dow: tuple[float, ...], tau: float, reference: dt.date, day: dt.date) -> float:
    """The demand factor on `day`: dow[weekday] * exp(tau * days from reference to day)."""
    return float(dow[day.weekday()] * np.exp(tau * (day - reference).days))


def exposure(
    dow: tuple[float, ...], tau: float, weekday: IntArray, offset_days: FloatArray
) -> FloatArray:
    """Daily factors for a day axis given each day's weekday and its distance from the reference."""
    return np.asarray(np.asarray(dow)[weekday] * np.exp(tau * offset_days), dtype=np.float64)


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
    y = np.where(valid, conversions, 0.0)
    off = np.where(valid, log_offset, 0.0)
    years = offset_days / _DAYS_PER_YEAR
    design = np.zeros((y.size, 8))
    design[np.arange(y.size), weekday] = 1.0
    design[:, 7] = years
    design = design * valid[:, None]
    precision = np.full(8, max(dow_ridge, 1e-9))
    use_trend = trend_prior_sd_per_year > 0
    precision[7] = 1.0 / trend_prior_sd_per_year**2 if use_trend else 1.0
    beta = np.zeros(8)
    for _ in range(iterations):
        mu = np.where(valid, np.exp(off + design @ beta), 0.0)
        grad = design.T @ (y - mu) - precision * beta
        hess = (design * mu[:, None]).T @ design + np.diag(precision)
        if not use_trend:
            grad[7] = 0.0
            hess[7, :] = 0.0
            hess[:, 7] = 0.0
            hess[7, 7] = 1.0
        step = np.linalg.solve(hess, grad)
        beta = beta + np.clip(step, -_MAX_STEP, _MAX_STEP)
        if np.max(np.abs(step)) < 1e-8:
            break
    factors = np.exp(beta[:7])
    factors = factors / factors.mean()
    return tuple(float(f) for f in factors), float(beta[7] / _DAYS_PER_YEAR)
