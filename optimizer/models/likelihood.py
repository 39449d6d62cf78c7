"""Poisson deviance and the closed-form scale: the count likelihood every curve is fitted by.

Daily conversions are counts (fractional under data-driven attribution, over-dispersed in practice),
so curves are fitted by Poisson deviance, a quasi-likelihood that stays sensible for both, rather
than by least squares, which would let a few high-volume days dominate the fit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["MU_FLOOR", "closed_form_scale", "poisson_deviance", "unit_deviance"]

FloatArray = npt.NDArray[np.float64]

MU_FLOOR = 1e-12
"""Smallest mean in a deviance: a zero prediction against a conversion costs a lot, not inf."""


def unit_deviance(y: npt.ArrayLike, mu: npt.ArrayLike) -> FloatArray:
    """Per-observation Poisson deviance 2 * (y log(y / mu) - (y - mu)); 0 log 0 = 0."""
    y_arr = np.asarray(y, dtype=np.float64)
    mu_arr = np.maximum(np.asarray(mu, dtype=np.float64), MU_FLOOR)
    positive = y_arr > 0
    ratio = np.where(positive, y_arr, 1.0) / mu_arr
    term = np.where(positive, y_arr * np.log(ratio), 0.0)
    return np.asarray(2.0 * (term - (y_arr - mu_arr)), dtype=np.float64)


def poisson_deviance(
    y: npt.ArrayLike,
    mu: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    axis: int | None = -1,
) -> FloatArray:
    """Weighted Poisson deviance summed over `axis` (all axes when None)."""
    dev = unit_deviance(y, mu)
    if weights is not None:
        dev = dev * np.asarray(weights, dtype=np.float64)
    return np.asarray(np.sum(dev, axis=axis), dtype=np.float64)


def closed_form_scale(
    weighted_conversions: npt.ArrayLike, weighted_basis: npt.ArrayLike
) -> FloatArray:
    """Poisson MLE of `a` in mu = a * exposure * g: sum(w y) / sum(w exposure g) (0 when undefined).

    For fixed shape parameters the likelihood is maximised in closed form, which is what lets the
    shape be profiled over a grid instead of optimised numerically.
    """
    num = np.asarray(weighted_conversions, dtype=np.float64)
    den = np.asarray(weighted_basis, dtype=np.float64)
    ok = den > 0
    return np.asarray(np.where(ok, num / np.where(ok, den, 1.0), 0.0), dtype=np.float64)
