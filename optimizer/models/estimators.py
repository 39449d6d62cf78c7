"""scikit-learn estimators for the curve families: HillCurve, PowerCurve and LogCurve.

X holds daily spend in column 0 and, optionally, exposure multipliers in the further columns (e.g.
the known weekday x trend factor of that day; several columns multiply, none means 1); y holds
conversions per day. `predict` returns exposure * f(spend). Days without spend or exposure say
nothing about the curve's shape and are left out of the fit. Fitting minimises the Poisson deviance
by profiling the closed-form scale over a shape grid (`optimizer.models.profile`), optionally
penalising the shape toward `prior` (natural units, e.g. {"k": 40.0, "s": 0.7}) with weight
`prior_strength`.

The concave families fit S-shaped data (slow start, then a bend) by a curve close to its concave
envelope over the observed spend range; `SHillCurve` models the S-shape itself, and the account fit
uses it only where a test on the entity's data finds increasing returns.

Errors are the project's own (`InvalidInputError`, `NotFittedError`); the estimators raise
subclasses that are also scikit-learn's `ValueError` / `sklearn.exceptions.NotFittedError`, so code
written against either contract catches them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import validate_data

from optimizer.errors import InvalidInputError, NotFittedError
from optimizer.families import FAMILIES, SHAPE_BOUNDS
from optimizer.models.likelihood import poisson_deviance
from optimizer.models.profile import profile_fit, spend_scale, to_transformed

__all__ = [
    "ESTIMATORS",
    "CurveEstimator",
    "HillCurve",
    "LogCurve",
    "PowerCurve",
    "SHillCurve",
    "curve_from_dict",
]

FloatArray = npt.NDArray[np.float64]


class _CurveInputError(InvalidInputError, ValueError):
    """Bad X, y or parameters: the project's InvalidInputError, a ValueError for scikit-learn."""


class _CurveNotFittedError(NotFittedError, SklearnNotFittedError):  # type: ignore[misc]
    """Used before fit: the project's NotFittedError, and scikit-learn's."""


class CurveEstimator(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Shared fit/predict for one curve family; subclasses only name their family."""

    lookup_name: ClassVar[str] = ""

    def __init__(
        self, *, prior: Mapping[str, float] | None = None, prior_strength: float = 0.0
    ) -> None:
        self.prior = prior
        self.prior_strength = prior_strength

    @property
    def shape_names(self) -> tuple[str, ...]:
        return tuple(p for p in FAMILIES[self.lookup_name].param_names if p != "a")

    def fit(
        self,
        X: npt.ArrayLike,  # noqa: N803 (scikit-learn's name for the features)
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> Self:
        if self.lookup_name not in FAMILIES:
            raise _CurveInputError(
                "fit a family estimator: HillCurve, PowerCurve, LogCurve or SHillCurve"
            )
        spend, expo, target, weight = self._validated(X, y, sample_weight)
        scale = spend_scale(spend[None, :], weight[None, :])
        center, strength = self._prior_arrays(scale)
        fit = profile_fit(
            self.lookup_name,
            spend[None, :],
            target[None, :],
            expo[None, :],
            weight[None, :],
            scale=scale,
            prior_center=center,
            prior_strength=strength,
        )
        self.params_ = {name: float(fit.params[name][0, 0]) for name in fit.params}
        mu = expo * self.curve(spend)
        used = np.where((spend > 0) & (expo > 0), weight, 0.0)
        self.deviance_ = float(poisson_deviance(target, mu, used))
        return self

    def predict(self, X: npt.ArrayLike) -> FloatArray:  # noqa: N803
        """Expected conversions: exposure * f(spend)."""
        self._check_fitted()
        spend, expo = self._features(X, reset=False)
        return np.asarray(expo * self.curve(spend), dtype=np.float64)

    def curve(self, spend: npt.ArrayLike) -> FloatArray:
        """f(spend) at exposure 1, vectorised."""
        self._check_fitted()
        spec = FAMILIES[self.lookup_name]
        x = np.asarray(spend, dtype=np.float64)
        return spec.function(x, *(self.params_[name] for name in spec.param_names))

    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {"lookup_name": self.lookup_name, "params": dict(self.params_)}

    @classmethod
    def from_params(cls, params: Mapping[str, float], *, n_features_in: int = 1) -> Self:
        """A fitted estimator from stored parameters (no data needed)."""
        missing = [p for p in FAMILIES[cls.lookup_name].param_names if p not in params]
        if missing:
            raise _CurveInputError(
                f"{cls.lookup_name} curve lacks parameters: {', '.join(missing)}"
            )
        values = {p: float(params[p]) for p in FAMILIES[cls.lookup_name].param_names}
        valid = all(np.isfinite(v) for v in values.values()) and values["a"] >= 0
        valid = valid and values.get("k", 1.0) > 0
        bounds = SHAPE_BOUNDS[cls.lookup_name]
        valid = valid and all(lo < values[p] <= hi for p, (lo, hi) in bounds.items())
        if not valid:
            raise _CurveInputError(
                f"{cls.lookup_name} curve parameters {values} are not finite or outside the "
                "family's range"
            )
        estimator = cls()
        estimator.params_ = values
        estimator.n_features_in_ = n_features_in
        return estimator

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.target_tags.positive_only = True
        if tags.regressor_tags is not None:
            # Arbitrary regression data is not a concave response to spend; R^2 there means nothing.
            tags.regressor_tags.poor_score = True
        return tags

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise _CurveNotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) first"
            )

    def _prior_arrays(self, scale: FloatArray) -> tuple[FloatArray | None, FloatArray | None]:
        if self.prior is None or self.prior_strength == 0:
            return None, None
        if not np.isfinite(self.prior_strength) or self.prior_strength < 0:
            raise _CurveInputError("prior_strength must be a non-negative number")
        unknown = sorted(set(self.prior) - set(self.shape_names))
        missing = [p for p in self.shape_names if p not in self.prior]
        if unknown or missing:
            raise _CurveInputError(
                f"a {self.lookup_name} prior needs exactly {', '.join(self.shape_names)}"
            )
        for name in self.shape_names:
            value = float(self.prior[name])
            lower, upper = SHAPE_BOUNDS[self.lookup_name].get(name, (0.0, np.inf))
            if not (lower < value <= upper):
                raise _CurveInputError(f"prior {name}={value} is outside the family's range")
        t = to_transformed(self.lookup_name, self.prior, scale)
        return np.stack(t, axis=-1).reshape(1, -1), np.array([float(self.prior_strength)])

    def _features(self, X: npt.ArrayLike, *, reset: bool) -> tuple[FloatArray, FloatArray]:  # noqa: N803
        try:
            arr = validate_data(self, X, reset=reset, dtype=np.float64)
        except ValueError as exc:
            raise _CurveInputError(f"invalid X: {exc}") from None
        return self._split(arr)

    @staticmethod
    def _split(arr: FloatArray) -> tuple[FloatArray, FloatArray]:
        if (arr < 0).any():
            raise _CurveInputError(
                "Negative values in data passed to X: spend and exposure must be >= 0"
            )
        spend = np.ascontiguousarray(arr[:, 0])
        expo = np.prod(arr[:, 1:], axis=1) if arr.shape[1] > 1 else np.ones_like(spend)
        return spend, np.asarray(expo, dtype=np.float64)

    def _validated(
        self,
        X: npt.ArrayLike,  # noqa: N803 (scikit-learn's name for the features)
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        try:
            arr, target = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        except ValueError as exc:
            raise _CurveInputError(f"invalid X or y: {exc}") from None
        spend, expo = self._split(arr)
        target = np.asarray(target, dtype=np.float64)
        if (target < 0).any():
            raise _CurveInputError("conversions (y) must not be negative")
        if sample_weight is None:
            weight = np.ones_like(spend)
        else:
            weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if weight.shape != spend.shape:
                raise _CurveInputError(
                    f"sample_weight has {weight.size} values for {spend.size} samples"
                )
            if not np.isfinite(weight).all() or (weight < 0).any():
                raise _CurveInputError("sample_weight must be finite and not negative")
            if not weight.any():
                raise _CurveInputError("sample_weight is all zero: there is nothing to fit")
        return spend, expo, target, weight


class HillCurve(CurveEstimator):
    """a * x^s / (k^s + x^s), 0 < s <= 1: saturates at `a`, half-way at spend k."""

    lookup_name: ClassVar[str] = "hill"


class PowerCurve(CurveEstimator):
    """a * x^b, 0 < b <= 1: diminishing returns without a ceiling."""

    lookup_name: ClassVar[str] = "power"


class LogCurve(CurveEstimator):
    """a * log(1 + x / k): linear at small spend, slowly flattening."""

    lookup_name: ClassVar[str] = "log"


class SHillCurve(CurveEstimator):
    """a * x^s / (k^s + x^s), 1 < s <= 4: S-shaped, increasing returns below the inflection point
    k ((s - 1) / (s + 1))^(1/s); the average return f(x) / x peaks at k (s - 1)^(1/s)."""

    lookup_name: ClassVar[str] = "s_hill"


ESTIMATORS: dict[str, type[CurveEstimator]] = {
    cls.lookup_name: cls for cls in (HillCurve, PowerCurve, LogCurve, SHillCurve)
}


def curve_from_dict(data: Mapping[str, Any]) -> CurveEstimator:
    """Rebuild a fitted estimator from {"lookup_name": ..., "params": {...}} (see `to_dict`)."""
    name = data.get("lookup_name")
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise _CurveInputError(
            f"unknown curve family {name!r}; known: {', '.join(sorted(ESTIMATORS))}"
        )
    params = data.get("params")
    if not isinstance(params, Mapping):
        raise _CurveInputError("a stored curve needs a 'params' mapping")
    return ESTIMATORS[name].from_params(params)
