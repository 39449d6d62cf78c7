"""Band calibration: the fitted 10-90% band scaled around the forecast by one factor per account,
set by the backtest so the band holds what it promises out of sample (`optimizer.backtest`); and
the likely range a plan shows, the 80% predictive range of the conversions that will be counted
(curve uncertainty, scaled, plus Poisson count noise)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson

from optimizer.errors import InvalidInputError

__all__ = ["PREDICTIVE_QUANTILES", "likely_range", "scaled_band"]

PREDICTIVE_QUANTILES = (0.10, 0.90)
"""The 80% predictive band: its lower and upper count quantiles."""

FloatArray = npt.NDArray[np.float64]


def scaled_band(
    point: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike, scale: float
) -> tuple[FloatArray, FloatArray]:
    """(low, high) `scale` times as far from `point` as given, never excluding the point itself
    and never below zero."""
    if not (math.isfinite(scale) and scale >= 0):
        raise InvalidInputError(f"a band scale must be a non-negative number, got {scale}")
    p = np.asarray(point, dtype=np.float64)
    below = np.maximum(p - np.minimum(np.asarray(low, dtype=np.float64), p), 0.0) * scale
    above = np.maximum(np.maximum(np.asarray(high, dtype=np.float64), p) - p, 0.0) * scale
    return np.maximum(p - below, 0.0), p + above


def likely_range(
    low_mean: npt.ArrayLike, high_mean: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """The 80% range of counts: the 10% quantile of a Poisson count at the (scaled) low curve's
    mean and the 90% quantile at the high curve's; whole conversions, as the platform counts them.
    """
    low = np.maximum(np.asarray(low_mean, dtype=np.float64), 0.0)
    high = np.maximum(np.asarray(high_mean, dtype=np.float64), 0.0)
    lo = np.where(low > 0, poisson.ppf(PREDICTIVE_QUANTILES[0], np.maximum(low, 1e-12)), 0.0)
    hi = np.where(high > 0, poisson.ppf(PREDICTIVE_QUANTILES[1], np.maximum(high, 1e-12)), 0.0)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
