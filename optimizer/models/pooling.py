"""Pooling thin keywords with their campaign: which keywords borrow, what they borrow, and the cap.

A keyword with few conversions or steady spend cannot reveal its own curvature. Such a keyword keeps
its own scale but has its shape pulled toward the campaign curve ("shrunk"); one with almost nothing
to say takes the campaign curve outright ("fallback"): same family and shape, the saturation spend k
scaled by the keyword's share of the campaign's spend, and its own Poisson MLE of the scale, capped
so the keyword never promises more conversions than its whole campaign would at the same spend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from optimizer.families import FAMILIES
from optimizer.models.options import FitOptions

__all__ = [
    "FALLBACK",
    "NONE",
    "SHRUNK",
    "classify",
    "fallback_cap",
    "range_cap",
    "scaled_shape",
]

FloatArray = npt.NDArray[np.float64]

NONE = "none"
SHRUNK = "shrunk"
FALLBACK = "fallback"


def classify(
    conversions: FloatArray,
    spend_cv: FloatArray,
    poolable: npt.NDArray[np.bool_],
    options: FitOptions,
) -> npt.NDArray[np.str_]:
    """'none' | 'shrunk' | 'fallback' per entity; only `poolable` entities (keywords) ever
    borrow."""
    fallback = (conversions < options.fallback_conversions) | (spend_cv < options.fallback_spend_cv)
    thin = (conversions < options.thin_conversions) | (spend_cv < options.thin_spend_cv)
    out = np.where(fallback, FALLBACK, np.where(thin, SHRUNK, NONE))
    return np.asarray(np.where(poolable, out, NONE))


def scaled_shape(
    family: str, campaign: Mapping[str, float], share: FloatArray
) -> dict[str, FloatArray]:
    """The campaign's shape parameters for keywords with spend `share` (k scales with the share)."""
    out: dict[str, FloatArray] = {}
    for name in FAMILIES[family].param_names:
        if name == "a":
            continue
        value = np.full(share.shape, float(campaign[name]))
        out[name] = value * share if name == "k" else value
    return out


def fallback_cap(family: str, campaign: Mapping[str, float], share: FloatArray) -> FloatArray:
    """Largest keyword `a` with the scaled campaign shape that stays below the campaign at every
    spend.

    With k scaled by share <= 1 the ratio campaign / keyword-basis rises with spend, so its infimum
    is the limit at zero spend: a_c * share^s (Hill), a_c * share (log), a_c (power, no k).
    """
    a_c = float(campaign["a"])
    share = np.clip(share, 0.0, 1.0)
    if family == "hill":
        return np.asarray(a_c * np.power(share, float(campaign["s"])), dtype=np.float64)
    if family == "log":
        return np.asarray(a_c * share, dtype=np.float64)
    return np.full(share.shape, a_c)


def range_cap(
    family: str,
    campaign: Mapping[str, float],
    shape: Mapping[str, FloatArray],
    spend_grid: FloatArray,
    campaign_family: str | None = None,
) -> FloatArray:
    """Largest `a` per entity/replicate keeping the curve below the campaign curve on `spend_grid`.

    shape: the entity's own shape parameters (family `family`), (K, R); spend_grid: (K, G); the
    campaign curve is of `campaign_family` (default: the same family). Used for shrunk keywords,
    whose shape may differ from the campaign's, so the comparison is made where the solver may move
    them (their trust region) rather than at every spend.
    """
    spec = FAMILIES[family]
    top_spec = FAMILIES[campaign_family or family]
    x = spend_grid[:, None, :]
    unit = {name: np.asarray(shape[name])[..., None] for name in spec.param_names if name != "a"}
    unit["a"] = np.ones(1)
    basis = spec.function(x, *(unit[name] for name in spec.param_names))
    top = top_spec.function(x, *(float(campaign[name]) for name in top_spec.param_names))
    ok = basis > 0
    ratio = np.where(ok, top / np.where(ok, basis, 1.0), np.inf)
    return np.asarray(ratio.min(axis=-1), dtype=np.float64)
