"""EntityCurve: everything fitted for one entity, frozen, with a lossless dict form.

Expected conversions per day at spend x on day d are

    dow[weekday(d)] * exp(tau * (d - reference_date)) * f_family(x; params)

and the conservative / optimistic band curves use the same family with `low_params` / `high_params`.
`band_spend` / `band_low` / `band_high` hold the pointwise bootstrap band of f (calendar factor 1)
over the trust region.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError
from optimizer.families import evaluate
from optimizer.models.calendar import multiplier
from optimizer.models.diagnostics import EntityDiagnostics
from optimizer.models.estimators import CurveEstimator, curve_from_dict
from optimizer.schema import NAME_COLUMNS, EntityKey

__all__ = ["EntityCurve", "entity_id"]

FloatArray = npt.NDArray[np.float64]


def entity_id(key: EntityKey) -> str:
    """Stable 16-hex id of an entity key (the same on every machine and run)."""
    joined = "\x1f".join(getattr(key, name) for name in NAME_COLUMNS)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def _floats(values: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items()}


@dataclass(frozen=True)
class EntityCurve:
    """One fitted entity: curve, bands, calendar, value, trust region and diagnostics."""

    key: EntityKey
    lookup_name: str
    params: dict[str, float]
    low_params: dict[str, float]
    high_params: dict[str, float]
    dow: tuple[float, ...]
    tau: float
    reference_date: dt.date
    value_per_conversion: float
    spend_min_obs: float
    spend_max_obs: float
    trust_low: float
    trust_high: float
    current_spend: float
    band_spend: tuple[float, ...]
    band_low: tuple[float, ...]
    band_high: tuple[float, ...]
    diagnostics: EntityDiagnostics

    @property
    def entity_id(self) -> str:
        return entity_id(self.key)

    def multiplier(self, day: dt.date) -> float:
        """Calendar factor on `day` (weekday x trend since the reference date)."""
        return multiplier(self.dow, self.tau, self.reference_date, day)

    def expected(
        self, spend: npt.ArrayLike, day: dt.date | None = None, band: str = ""
    ) -> FloatArray:
        """Expected conversions at `spend`: calendar factor of `day` (1 when None) x the curve.

        band: '' for the fitted curve, 'low' / 'high' for the band curves.
        """
        choices = {"": self.params, "low": self.low_params, "high": self.high_params}
        if band not in choices:
            raise InvalidInputError(f"band must be '', 'low' or 'high', got {band!r}")
        params = choices[band]
        factor = 1.0 if day is None else self.multiplier(day)
        x = np.asarray(spend, dtype=np.float64)
        return np.asarray(factor * evaluate(self.lookup_name, params, x), dtype=np.float64)

    def estimator(self) -> CurveEstimator:
        """The fitted curve as a scikit-learn estimator (X = spend, optionally exposure)."""
        return curve_from_dict({"lookup_name": self.lookup_name, "params": self.params})

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": {name: getattr(self.key, name) for name in NAME_COLUMNS},
            "entity_id": self.entity_id,
            "lookup_name": self.lookup_name,
            "params": dict(self.params),
            "low_params": dict(self.low_params),
            "high_params": dict(self.high_params),
            "dow": list(self.dow),
            "tau": self.tau,
            "reference_date": self.reference_date.isoformat(),
            "value_per_conversion": self.value_per_conversion,
            "spend_min_obs": self.spend_min_obs,
            "spend_max_obs": self.spend_max_obs,
            "trust_low": self.trust_low,
            "trust_high": self.trust_high,
            "current_spend": self.current_spend,
            "band_spend": list(self.band_spend),
            "band_low": list(self.band_low),
            "band_high": list(self.band_high),
            "diagnostics": self.diagnostics.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityCurve:
        curve = cls(
            key=EntityKey(**{name: str(data["key"][name]) for name in NAME_COLUMNS}),
            lookup_name=str(data["lookup_name"]),
            params=_floats(data["params"]),
            low_params=_floats(data["low_params"]),
            high_params=_floats(data["high_params"]),
            dow=tuple(float(f) for f in data["dow"]),
            tau=float(data["tau"]),
            reference_date=dt.date.fromisoformat(data["reference_date"]),
            value_per_conversion=float(data["value_per_conversion"]),
            spend_min_obs=float(data["spend_min_obs"]),
            spend_max_obs=float(data["spend_max_obs"]),
            trust_low=float(data["trust_low"]),
            trust_high=float(data["trust_high"]),
            current_spend=float(data["current_spend"]),
            band_spend=tuple(float(v) for v in data["band_spend"]),
            band_low=tuple(float(v) for v in data["band_low"]),
            band_high=tuple(float(v) for v in data["band_high"]),
            diagnostics=EntityDiagnostics.from_dict(data["diagnostics"]),
        )
        for params in (curve.params, curve.low_params, curve.high_params):
            curve_from_dict({"lookup_name": curve.lookup_name, "params": params})
        if len(curve.dow) != 7 or not all(math.isfinite(f) and f > 0 for f in curve.dow):
            raise InvalidInputError(f"{curve.key}: dow needs seven positive factors")
        return curve
