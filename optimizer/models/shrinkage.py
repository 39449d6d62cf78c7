"""Empirical-Bayes pooling of keyword elasticities within a campaign.

What a budget split depends on is each keyword's marginal return at its current spend: its average
return (conversions per unit of spend, well measured) times its elasticity there (the curvature,
poorly measured). On six months of daily data a keyword with under one conversion a day reveals
its elasticity barely better than a guess, and ranking keywords by such guesses sends budget to
the lucky ones. So each keyword's elasticity at its current spend is treated as a draw from its
campaign's distribution, whose mean and spread are estimated from the keywords themselves, and
pulled toward that mean by its own sampling variance relative to the spread: a well-measured
keyword keeps its shape, a noisy one takes the campaign's.

The spread is the posterior mean of tau^2 under a half-normal prior on tau (scale
`SPREAD_PRIOR_SCALE`), with the campaign mean integrated out (restricted likelihood), not the
DerSimonian-Laird moment estimate: with a campaign's handful of keywords that estimate is 0 more
often than not, and a spread of 0 gives every keyword an own weight of 0, so that even a keyword
whose spend was moved on purpose (a spend test) keeps the campaign's elasticity. The posterior
mean is never 0; with many keywords it agrees with the moment estimate.

The sampling variance is the larger of the bootstrap variance and the Fisher information bound
1 / (conversions x variance of log spend): a keyword whose bootstrap replicates all land on the
same edge of the shape grid looks certain to the bootstrap but is not.

Only families with one shape coordinate (`POOLED_FAMILIES`) are pooled this way: their elasticity
at a given spend determines their shape, so a pooled elasticity maps back to exactly one curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError

__all__ = [
    "POOLED_FAMILIES",
    "SPREAD_PRIOR_SCALE",
    "PooledElasticity",
    "elasticity",
    "information_variance",
    "shape_for_elasticity",
    "shrink_elasticities",
]

FloatArray = npt.NDArray[np.float64]

POOLED_FAMILIES: tuple[str, ...] = ("log", "power")

_LOG_U_RANGE = (-30.0, 30.0)
_BISECTIONS = 64
_ELASTICITY_RANGE = (1e-3, 1.0 - 1e-6)
_VARIANCE_FLOOR = 1e-8
_SPREAD_GRID2 = np.linspace(0.0, 1.0, 401) ** 2

SPREAD_PRIOR_SCALE = 0.2
"""Half-normal scale of the between-keyword standard deviation of elasticities (which lie in 0-1):
weak, it lets keywords of one campaign differ by a few tenths and rarely by more than 0.5."""


@dataclass(frozen=True, eq=False)
class PooledElasticity:
    """Pooled elasticities (K, R), the weight each entity kept on its own estimate (K,), and the
    campaign's mean (R,) and between-keyword variance."""

    values: FloatArray
    own_weight: FloatArray
    mean: FloatArray
    spread: float


def elasticity(family: str, t0: FloatArray, lx: FloatArray) -> FloatArray:
    """d log f / d log spend at log(spend / scale) = lx, for the transformed shape t0.

    power: b everywhere; log: with u = spend / k, u / ((1 + u) log(1 + u)), falling from 1 to 0.
    """
    if family == "power":
        return np.asarray(t0, dtype=np.float64)
    if family == "log":
        u = np.exp(np.clip(lx - t0, *_LOG_U_RANGE))
        return np.asarray(u / ((1.0 + u) * np.log1p(u)), dtype=np.float64)
    raise InvalidInputError(f"curve family '{family}' has no one-coordinate elasticity")


def shape_for_elasticity(family: str, target: FloatArray, lx: FloatArray) -> FloatArray:
    """The transformed shape t0 with elasticity `target` at lx (inverse of `elasticity`).

    For log the elasticity is monotone in log u, so a vectorised bisection on log u finds it.
    """
    eps = np.clip(np.asarray(target, dtype=np.float64), *_ELASTICITY_RANGE)
    if family == "power":
        return eps
    if family != "log":
        raise InvalidInputError(f"curve family '{family}' has no one-coordinate elasticity")
    lo = np.full(eps.shape, _LOG_U_RANGE[0])
    hi = np.full(eps.shape, _LOG_U_RANGE[1])
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        u = np.exp(mid)
        too_elastic = u / ((1.0 + u) * np.log1p(u)) > eps
        lo = np.where(too_elastic, mid, lo)
        hi = np.where(too_elastic, hi, mid)
    return np.asarray(lx - 0.5 * (lo + hi), dtype=np.float64)


def information_variance(spend: FloatArray, conversions: FloatArray) -> FloatArray:
    """Lower bound on the variance of an elasticity estimate: 1 / (conversions x var(log spend)).

    (The Fisher information of a Poisson log-linear slope; inf when spend never varied or nothing
    converted, so such a keyword takes the campaign's elasticity.)
    """
    spent = spend > 0
    logs = np.where(spent, np.log(np.where(spent, spend, 1.0)), 0.0)
    days = np.maximum(spent.sum(axis=1), 1)
    mean = logs.sum(axis=1) / days
    var = np.where(spent, (logs - mean[:, None]) ** 2, 0.0).sum(axis=1) / days
    info = conversions.sum(axis=1) * var
    return np.asarray(np.where(info > 0, 1.0 / np.where(info > 0, info, 1.0), np.inf))


def shrink_elasticities(
    values: FloatArray,
    variance: FloatArray,
    members: npt.NDArray[np.bool_],
    replicate_rows: slice | None = None,
) -> PooledElasticity:
    """Pull every row (weight vector) of `values` (K, R) toward its members' precision-weighted
    mean, each member i by w_i = tau^2 / (tau^2 + variance_i); non-members are returned unchanged.

    The spread tau^2 is estimated once from row 0 (the full-data fit); each row gets its own mean,
    so a cross-validation fold's curves never see the days it is scored on. Bootstrap replicates
    (`replicate_rows`) are instead spread around the pooled point to the posterior variance
    w_i x variance_i: shrinking each replicate like a point would shrink their spread by w_i
    squared, and bands built on them would claim more certainty than the pooling earned.
    """
    v = np.maximum(np.asarray(variance, dtype=np.float64), _VARIANCE_FLOOR)
    finite = members & np.isfinite(v)
    spread = _between_variance(values[finite, 0], v[finite]) if finite.sum() > 1 else 0.0
    precision = np.where(members, 1.0 / (v + spread), 0.0)
    if precision.sum() > 0:
        mean = (precision[:, None] * values).sum(axis=0) / precision.sum()
    else:
        mean = np.nanmean(np.where(members[:, None], values, np.nan), axis=0)
    own = np.where(members, spread / (spread + v), 1.0)
    pooled = np.where(
        members[:, None], mean[None, :] + own[:, None] * (values - mean[None, :]), values
    )
    if replicate_rows is not None:
        pooled[:, replicate_rows] = _posterior_replicates(
            values, pooled, mean, own, v, members, replicate_rows
        )
    return PooledElasticity(
        values=np.asarray(pooled, dtype=np.float64),
        own_weight=np.asarray(own, dtype=np.float64),
        mean=np.asarray(mean, dtype=np.float64),
        spread=spread,
    )


def _posterior_replicates(
    values: FloatArray,
    pooled: FloatArray,
    mean: FloatArray,
    own: FloatArray,
    variance: FloatArray,
    members: npt.NDArray[np.bool_],
    rows: slice,
) -> FloatArray:
    """Replicates around the pooled point with spread sqrt(w x variance), plus the share (1 - w)
    of the campaign mean's own replicate-to-replicate movement."""
    replicates = values[:, rows]
    spread = np.var(replicates, axis=1, ddof=1) if replicates.shape[1] > 1 else np.zeros(len(own))
    ok = spread > 0
    factor = np.where(ok, np.sqrt(own * variance / np.where(ok, spread, 1.0)), 0.0)
    moved = (
        pooled[:, :1]
        + factor[:, None] * (replicates - values[:, :1])
        + (1.0 - own[:, None]) * (mean[None, rows] - mean[0])
    )
    return np.asarray(np.where(members[:, None], moved, replicates), dtype=np.float64)


def _between_variance(estimates: FloatArray, variances: FloatArray) -> float:
    """Posterior mean of the variance tau^2 of the true values behind `estimates`, on a grid of tau.

    log p(tau | y) = -1/2 sum log(v_i + tau^2) - 1/2 log sum w_i - 1/2 sum w_i (y_i - mu(tau))^2
    - tau^2 / (2 s^2), w_i = 1 / (v_i + tau^2), mu(tau) the w-weighted mean (flat prior on mu).
    """
    total = variances[None, :] + _SPREAD_GRID2[:, None]
    w = 1.0 / total
    centre = (w * estimates).sum(axis=1, keepdims=True) / w.sum(axis=1, keepdims=True)
    log_post = (
        -0.5 * np.log(total).sum(axis=1)
        - 0.5 * np.log(w.sum(axis=1))
        - 0.5 * (w * (estimates - centre) ** 2).sum(axis=1)
        - _SPREAD_GRID2 / (2.0 * SPREAD_PRIOR_SCALE**2)
    )
    weight = np.exp(log_post - log_post.max())
    return float((weight * _SPREAD_GRID2).sum() / weight.sum())
