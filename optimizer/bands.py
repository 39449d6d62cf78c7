"""Band calibration: the fitted 10-90% band scaled around the forecast by one factor per account,
set by the backtest so the band holds what it promises out of sample (`optimizer.backtest`)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError

__all__ = ["scaled_band"]

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
