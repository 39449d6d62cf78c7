"""Curve families as pure, vectorised maths: spend -> expected conversions per day.

Every family is increasing on spend >= 0 for its allowed parameters and passes through (0, 0).
`hill`, `power` and `log` are concave, which keeps the budget split a linear programme; `s_hill`
is the Hill curve with shape above 1, S-shaped (increasing returns below its inflection point),
used only where an entity's data show increasing returns, and handled by the solver with one
binary variable (a minimum efficient spend, or none). Functions broadcast over numpy arrays so that
thousands of entities are evaluated in one call. Estimator classes (see `optimizer.models`) wrap
these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "FAMILIES",
    "NONCONCAVE_FAMILIES",
    "SHAPE_BOUNDS",
    "CurveFamily",
    "derivative",
    "evaluate",
    "hill",
    "hill_derivative",
    "log_curve",
    "log_curve_derivative",
    "power",
    "power_derivative",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = FloatArray | float


def hill(x: ArrayLike, a: ArrayLike, k: ArrayLike, s: ArrayLike) -> FloatArray:
    """Hill / Michaelis-Menten: a * x^s / (k^s + x^s); concave for 0 < s <= 1 (s = 1 is M-M),
    S-shaped for s > 1."""
    xs = np.power(np.maximum(x, 0.0), s)
    return np.asarray(a * xs / (np.power(k, s) + xs), dtype=np.float64)


def hill_derivative(x: ArrayLike, a: ArrayLike, k: ArrayLike, s: ArrayLike) -> FloatArray:
    x = np.maximum(x, 1e-300)
    ks = np.power(k, s)
    xs = np.power(x, s)
    return np.asarray(a * s * ks * xs / (x * (ks + xs) ** 2), dtype=np.float64)


def power(x: ArrayLike, a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Power curve a * x^b with 0 < b <= 1: no saturation point, diminishing returns throughout."""
    return np.asarray(a * np.power(np.maximum(x, 0.0), b), dtype=np.float64)


def power_derivative(x: ArrayLike, a: ArrayLike, b: ArrayLike) -> FloatArray:
    x = np.maximum(x, 1e-300)
    return np.asarray(a * b * np.power(x, b - 1.0), dtype=np.float64)


def log_curve(x: ArrayLike, a: ArrayLike, k: ArrayLike) -> FloatArray:
    """Log curve a * log(1 + x/k): linear near zero, slowly saturating."""
    return np.asarray(a * np.log1p(np.maximum(x, 0.0) / k), dtype=np.float64)


def log_curve_derivative(x: ArrayLike, a: ArrayLike, k: ArrayLike) -> FloatArray:
    return np.asarray(a / (k + np.maximum(x, 0.0)), dtype=np.float64)


@dataclass(frozen=True)
class CurveFamily:
    """A registered family: its lookup name, shape parameters and the two pure functions."""

    lookup_name: str
    param_names: tuple[str, ...]
    function: Callable[..., FloatArray]
    derivative: Callable[..., FloatArray]


FAMILIES: dict[str, CurveFamily] = {
    family.lookup_name: family
    for family in (
        CurveFamily("hill", ("a", "k", "s"), hill, hill_derivative),
        CurveFamily("power", ("a", "b"), power, power_derivative),
        CurveFamily("log", ("a", "k"), log_curve, log_curve_derivative),
        CurveFamily("s_hill", ("a", "k", "s"), hill, hill_derivative),
    )
}

SHAPE_BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "hill": {"s": (0.0, 1.0)},
    "power": {"b": (0.0, 1.0)},
    "log": {},
    "s_hill": {"s": (1.0, 4.0)},
}
"""Each family's bounded shape parameters: lower (exclusive) and upper (inclusive) bound."""

NONCONCAVE_FAMILIES: frozenset[str] = frozenset({"s_hill"})
"""Families that are not concave: the solver gives them a minimum efficient spend or nothing."""


def _family(name: str) -> CurveFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        from optimizer.errors import InvalidInputError

        raise InvalidInputError(
            f"unknown curve family '{name}'; known: {', '.join(sorted(FAMILIES))}"
        ) from None


def evaluate(family: str, params: Mapping[str, ArrayLike], x: ArrayLike) -> FloatArray:
    """Expected conversions at spend x for one family; params broadcast against x."""
    spec = _family(family)
    return spec.function(x, *(params[name] for name in spec.param_names))


def derivative(family: str, params: Mapping[str, ArrayLike], x: ArrayLike) -> FloatArray:
    """Marginal conversions per unit of spend at x."""
    spec = _family(family)
    return spec.derivative(x, *(params[name] for name in spec.param_names))
