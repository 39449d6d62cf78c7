"""Uncertainty bands by resampling whole weeks, expressed as day weights.

Conversions on neighbouring days share shocks (promotions, outages, competitor moves), so resampling
single days would understate the uncertainty; resampling whole weeks keeps that dependence and every
weekday equally represented. A replicate is a vector of day weights (how often each day was drawn),
so all replicates are fitted in one vectorised profile pass (`optimizer.models.profile`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["band", "percentile_replicates", "week_weights"]

FloatArray = npt.NDArray[np.float64]


def week_weights(
    days: int, replicates: int, block_days: int, rng: np.random.Generator
) -> FloatArray:
    """(replicates, days) draw counts: blocks of `block_days` counted back from the last day."""
    block = (days - 1 - np.arange(days)) // block_days
    blocks = int(block.max()) + 1 if days else 0
    draws = rng.integers(0, max(blocks, 1), size=(replicates, blocks))
    counts = np.zeros((replicates, max(blocks, 1)))
    np.add.at(counts, (np.arange(replicates)[:, None], draws), 1.0)
    return np.asarray(counts[:, block], dtype=np.float64)


def band(values: FloatArray, quantiles: tuple[float, float]) -> tuple[FloatArray, FloatArray]:
    """Low and high quantiles over replicates (axis 1 of (K, B, G) predictions) -> two (K, G)."""
    low, high = np.quantile(values, quantiles, axis=1)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def percentile_replicates(
    at_reference: FloatArray, quantiles: tuple[float, float]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Per entity, the replicates whose prediction at the reference spend ranks at each quantile.

    at_reference: (K, B). Nearest rank, so the chosen curves are real replicates of the same family.
    """
    order = np.argsort(at_reference, axis=1, kind="stable")
    last = at_reference.shape[1] - 1
    low = order[:, round(quantiles[0] * last)]
    high = order[:, round(quantiles[1] * last)]
    return low, high
