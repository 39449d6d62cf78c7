"""The truth behind a simulated account: concave spend -> conversions curves, calendar effects.

Each entity (keyword, or a keyword-less campaign) has a Hill curve
`vmax * x**s / (k**s + x**s)` with `0.5 <= s <= 1`, which is increasing and concave for `x >= 0`.
Its campaign multiplies the curve by a day-of-week factor (seven factors averaging 1, Monday first)
and a slow trend `exp(trend_per_year * day_index / 365)`, `day_index` counting days from
`Truth.start`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError
from optimizer.money import validate_currency
from optimizer.schema import EntityKey

__all__ = [
    "MAX_SHAPE",
    "MIN_SHAPE",
    "TRUTH_FORMAT_VERSION",
    "CampaignEffects",
    "CurveParams",
    "TrueCurve",
    "Truth",
    "expected_conversions",
    "marginal_conversions",
]

TRUTH_FORMAT_VERSION = 1
MIN_SHAPE = 0.5
MAX_SHAPE = 1.0
_DAYS_PER_YEAR = 365.0
_DOW_TOLERANCE = 1e-9

FloatArray = npt.NDArray[np.float64]
IntLike = int | npt.NDArray[np.integer[Any]]


@dataclass(frozen=True, slots=True)
class CampaignEffects:
    """A campaign's demand multipliers: weekday factors (Monday first, mean 1), yearly log-trend."""

    dow: tuple[float, ...]
    trend_per_year: float = 0.0

    def __post_init__(self) -> None:
        if len(self.dow) != 7:
            raise InvalidInputError(f"a day-of-week profile needs 7 factors, got {len(self.dow)}")
        if not all(math.isfinite(f) and f > 0 for f in self.dow):
            raise InvalidInputError("day-of-week factors must be positive finite numbers")
        if abs(math.fsum(self.dow) / 7 - 1.0) > _DOW_TOLERANCE:
            raise InvalidInputError("day-of-week factors must average 1")
        if not math.isfinite(self.trend_per_year):
            raise InvalidInputError("the trend must be a finite number")


@dataclass(frozen=True, slots=True)
class TrueCurve:
    """One entity's true expected conversions per day as a function of its daily spend."""

    key: EntityKey
    vmax: float
    k: float
    shape: float
    order_value: float
    effects: CampaignEffects

    def __post_init__(self) -> None:
        label = self.key.campaign
        if not (math.isfinite(self.vmax) and self.vmax >= 0):
            raise InvalidInputError(f"{label}: vmax must be a non-negative finite number")
        if not (math.isfinite(self.k) and self.k > 0):
            raise InvalidInputError(f"{label}: the saturation point k must be positive")
        if not MIN_SHAPE <= self.shape <= MAX_SHAPE:
            raise InvalidInputError(
                f"{label}: shape must lie in [{MIN_SHAPE}, {MAX_SHAPE}] to keep the curve concave"
            )
        if not (math.isfinite(self.order_value) and self.order_value >= 0):
            raise InvalidInputError(f"{label}: order value must be a non-negative finite number")


@dataclass(frozen=True, eq=False)
class CurveParams:
    """Curve parameters of many entities as aligned arrays, for vectorised maths and the oracle.

    `dow` has shape (n, 7); every other array has shape (n,).
    """

    keys: tuple[EntityKey, ...]
    vmax: FloatArray
    k: FloatArray
    shape: FloatArray
    order_value: FloatArray
    dow: FloatArray
    trend_per_year: FloatArray

    @classmethod
    def from_curves(cls, curves: Iterable[TrueCurve]) -> CurveParams:
        items = tuple(curves)
        return cls(
            keys=tuple(c.key for c in items),
            vmax=np.array([c.vmax for c in items], dtype=np.float64),
            k=np.array([c.k for c in items], dtype=np.float64),
            shape=np.array([c.shape for c in items], dtype=np.float64),
            order_value=np.array([c.order_value for c in items], dtype=np.float64),
            dow=np.array([c.effects.dow for c in items], dtype=np.float64).reshape(len(items), 7),
            trend_per_year=np.array([c.effects.trend_per_year for c in items], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def multiplier(
        self, weekday: IntLike | None = None, day_index: IntLike | None = None
    ) -> FloatArray:
        """Each entity's calendar factor on one day (weekday, day_index: scalars or shape (n,))."""
        n = len(self)
        factor = np.ones(n, dtype=np.float64)
        if weekday is not None:
            factor = factor * self.dow[np.arange(n), _checked_weekday(weekday)]
        if day_index is not None:
            factor = factor * _trend(self.trend_per_year, np.asarray(day_index))
        return factor


@dataclass(frozen=True)
class Truth:
    """What the simulator drew: a curve per entity, campaign effects, first day and currency."""

    start: dt.date
    currency: str
    campaigns: Mapping[str, CampaignEffects]
    curves: Mapping[EntityKey, TrueCurve]

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        for key, curve in self.curves.items():
            if curve.key != key:
                raise InvalidInputError(f"curve stored under {key} belongs to {curve.key}")
            if self.campaigns.get(key.campaign) != curve.effects:
                raise InvalidInputError(f"curve {key} does not use its campaign's effects")

    @property
    def keys(self) -> tuple[EntityKey, ...]:
        return tuple(self.curves)

    def params(self, keys: Sequence[EntityKey] | None = None) -> CurveParams:
        """The curves of `keys` (default: all, in stored order) as arrays; unknown keys raise."""
        if keys is None:
            return CurveParams.from_curves(self.curves.values())
        missing = [k for k in keys if k not in self.curves]
        if missing:
            raise InvalidInputError(
                f"{len(missing)} entities have no true curve, e.g. {missing[0]}"
            )
        return CurveParams.from_curves(self.curves[k] for k in keys)

    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def to_json(self) -> str:
        payload = {
            "version": TRUTH_FORMAT_VERSION,
            "start": self.start.isoformat(),
            "currency": self.currency,
            "campaigns": [
                {"name": name, "dow": list(e.dow), "trend_per_year": e.trend_per_year}
                for name, e in self.campaigns.items()
            ],
            "entities": [
                {
                    "campaign": c.key.campaign,
                    "ad_group": c.key.ad_group,
                    "keyword": c.key.keyword,
                    "match_type": c.key.match_type,
                    "vmax": c.vmax,
                    "k": c.k,
                    "shape": c.shape,
                    "order_value": c.order_value,
                }
                for c in self.curves.values()
            ],
        }
        return json.dumps(payload, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Truth:
        try:
            payload = json.loads(text)
            version = payload["version"]
            if version != TRUTH_FORMAT_VERSION:
                raise InvalidInputError(
                    f"truth file has format version {version}; "
                    f"this build reads {TRUTH_FORMAT_VERSION}"
                )
            campaigns = {
                str(c["name"]): CampaignEffects(
                    dow=tuple(float(f) for f in c["dow"]),
                    trend_per_year=float(c["trend_per_year"]),
                )
                for c in payload["campaigns"]
            }
            curves: dict[EntityKey, TrueCurve] = {}
            for e in payload["entities"]:
                key = EntityKey(
                    str(e["campaign"]), str(e["ad_group"]), str(e["keyword"]), str(e["match_type"])
                )
                curves[key] = TrueCurve(
                    key=key,
                    vmax=float(e["vmax"]),
                    k=float(e["k"]),
                    shape=float(e["shape"]),
                    order_value=float(e["order_value"]),
                    effects=campaigns[key.campaign],
                )
            return cls(
                start=dt.date.fromisoformat(payload["start"]),
                currency=str(payload["currency"]),
                campaigns=campaigns,
                curves=curves,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a valid truth file: {exc!r}") from None


def expected_conversions(
    curve: TrueCurve | CurveParams,
    spend: npt.ArrayLike,
    weekday: IntLike | None = None,
    day_index: IntLike | None = None,
) -> FloatArray:
    """Expected conversions per day at `spend`; without weekday/day_index the calendar factor is 1.

    For `CurveParams` the first axis of `spend` is the entity; array-valued weekday/day_index
    broadcast against it with trailing axes added: shape (n,) is one per entity, (1, d) one per day.
    """
    x, vmax, k, s, factor = _prepare(curve, spend, weekday, day_index)
    ratio = np.power(x / k, s)
    result: FloatArray = factor * vmax * ratio / (1.0 + ratio)
    return result


def marginal_conversions(
    curve: TrueCurve | CurveParams,
    spend: npt.ArrayLike,
    weekday: IntLike | None = None,
    day_index: IntLike | None = None,
) -> FloatArray:
    """Derivative of `expected_conversions` in spend (infinite at zero spend when shape < 1)."""
    x, vmax, k, s, factor = _prepare(curve, spend, weekday, day_index)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.power(x / k, s)
        slope = np.where(
            x > 0, s * ratio / (x * (1.0 + ratio) ** 2), np.where(s < 1.0, np.inf, 1.0 / k)
        )
    result: FloatArray = factor * vmax * slope
    return result


def _trend(slope: FloatArray | float, day_index: npt.ArrayLike) -> FloatArray:
    return np.exp(np.multiply(slope, np.asarray(day_index, dtype=np.float64)) / _DAYS_PER_YEAR)


def _prepare(
    curve: TrueCurve | CurveParams,
    spend: npt.ArrayLike,
    weekday: IntLike | None,
    day_index: IntLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    x = np.asarray(spend, dtype=np.float64)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise InvalidInputError("spend must be non-negative and finite")
    if isinstance(curve, TrueCurve):
        ones = np.ones_like(x)
        factor = ones
        if weekday is not None:
            factor = factor * np.asarray(curve.effects.dow)[_checked_weekday(weekday)]
        if day_index is not None:
            factor = factor * _trend(curve.effects.trend_per_year, day_index)
        return x, ones * curve.vmax, ones * curve.k, ones * curve.shape, factor
    n = len(curve)
    if x.ndim == 0 or x.shape[0] != n:
        raise InvalidInputError(f"spend needs one row per entity ({n}), got shape {x.shape}")
    factor = np.ones_like(x)
    if weekday is not None:
        rows = _per_entity(np.arange(n), x.ndim)
        factor = factor * curve.dow[rows, _per_entity(_checked_weekday(weekday), x.ndim)]
    if day_index is not None:
        days = _per_entity(np.asarray(day_index), x.ndim)
        factor = factor * _trend(_per_entity(curve.trend_per_year, x.ndim), days)
    return (
        x,
        _per_entity(curve.vmax, x.ndim),
        _per_entity(curve.k, x.ndim),
        _per_entity(curve.shape, x.ndim),
        factor,
    )


def _checked_weekday(weekday: IntLike) -> npt.NDArray[np.integer[Any]]:
    days = np.asarray(weekday)
    if not np.issubdtype(days.dtype, np.integer) or np.any((days < 0) | (days > 6)):
        raise InvalidInputError("weekday must be an integer from 0 (Monday) to 6 (Sunday)")
    return days


def _per_entity(values: npt.NDArray[Any], ndim: int) -> npt.NDArray[Any]:
    """Add trailing axes to a per-entity array (or leave a scalar) so it broadcasts to ndim."""
    if values.ndim == 0:
        return values
    return values.reshape(values.shape + (1,) * (ndim - values.ndim))
