"""Does the click funnel hold? The conversion rate per click against spend.

The funnel models conversions as clicks(spend) x a conversion rate that does not move with spend,
as in search auctions, where more budget buys more of the same clicks at a rising cost per click.
Where the rate falls (or rises) with spend, the clicks' curve has another shape than the
conversions' and the funnel would misplace the bend; such a campaign is fitted directly.

The rate's elasticity to spend is estimated per campaign by quasi-Poisson regression of each day's
conversions on its clicks (an offset, with the ratio of the two calendars), an intercept per entity
and gamma x log(spend / typical spend): the intercepts are profiled out in closed form and gamma is
found on a grid refined by a parabola; its standard error comes from the curvature, inflated by the
over-dispersion.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["conversion_rate_elasticity"]

FloatArray = npt.NDArray[np.float64]

_GRID = np.linspace(-1.5, 1.5, 31)


def conversion_rate_elasticity(
    spend: FloatArray,
    clicks: FloatArray,
    conversions: FloatArray,
    clicks_exposure: FloatArray,
    conversion_exposure: FloatArray,
) -> tuple[float, float]:
    """(gamma, its standard error) for one campaign's entities, (entities, days) arrays; the
    exposures are per day. (0, inf) when the data cannot say."""
    used = (spend > 0) & (clicks > 0) & (clicks_exposure > 0) & (conversion_exposure > 0)
    entities = used.any(axis=1) & (np.where(used, conversions, 0.0).sum(axis=1) > 0)
    if entities.sum() == 0 or used[entities].sum() < 10:
        return 0.0, float("inf")
    x = spend[entities]
    ok = used[entities]
    y = np.where(ok, conversions[entities], 0.0)
    safe = np.where(clicks_exposure > 0, clicks_exposure, 1.0)
    base = np.where(ok, clicks[entities] * (conversion_exposure / safe)[None, :], 0.0)
    logs = np.where(ok, np.log(np.where(ok, x, 1.0)), 0.0)
    counts = np.maximum(ok.sum(axis=1), 1)
    z = np.where(ok, logs - (logs.sum(axis=1) / counts)[:, None], 0.0)
    totals = y.sum(axis=1)
    scores = np.array([_profile(y, base, z, totals, g) for g in _GRID])
    best = int(np.argmax(scores))
    centre = min(max(best, 1), _GRID.size - 2)
    step = float(_GRID[1] - _GRID[0])
    left, mid, right = scores[centre - 1], scores[centre], scores[centre + 1]
    curvature = (left - 2.0 * mid + right) / step**2
    if curvature >= 0:
        return float(_GRID[best]), float("inf")
    shift = float(np.clip(0.5 * step * (left - right) / (left - 2.0 * mid + right), -step, step))
    gamma = float(_GRID[centre]) + shift
    mu = _means(base, z, totals, gamma)
    dof = max(int(ok.sum()) - int(entities.sum()) - 1, 1)
    pearson = float(np.where(ok & (mu > 0), (y - mu) ** 2 / np.where(mu > 0, mu, 1.0), 0.0).sum())
    dispersion = max(1.0, pearson / dof)
    return gamma, float(np.sqrt(dispersion / -curvature))


def _means(base: FloatArray, z: FloatArray, totals: FloatArray, gamma: float) -> FloatArray:
    shape = base * np.exp(gamma * z)
    sums = shape.sum(axis=1)
    return np.where(
        sums[:, None] > 0, shape * (totals / np.where(sums > 0, sums, 1.0))[:, None], 0.0
    )


def _profile(
    y: FloatArray, base: FloatArray, z: FloatArray, totals: FloatArray, gamma: float
) -> float:
    """The Poisson log-likelihood at gamma with every entity's intercept at its MLE (up to a
    constant)."""
    sums = (base * np.exp(gamma * z)).sum(axis=1)
    ok = (totals > 0) & (sums > 0)
    return float((totals[ok] * np.log(totals[ok] / sums[ok])).sum() + gamma * (y * z).sum())
