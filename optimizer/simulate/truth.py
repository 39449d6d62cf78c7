"""The truth behind a simulated account: spend -> conversions curves, calendar effects, and the
real-world effects a scenario switched on (conversion lag, events, budget limits, the click funnel).

Each entity (keyword, or a keyword-less campaign) has a Hill curve
`vmax * x**s / (k**s + x**s)`. With `0.5 <= s <= 1` it is increasing and concave for `x >= 0`; an
S-shaped entity has `1 < s <= 4` (increasing returns below its inflection point). Its campaign
multiplies the curve by a day-of-week factor (seven factors averaging 1, Monday first) and a slow
trend `exp(trend_per_year * day_index / 365)`, `day_index` counting days from `Truth.start`.

`Truth.lag` is the share of a day's conversions reported by each age (days from the day to the
export's last day); `Truth.events` are account-wide multipliers of conversions over date ranges
(a promotion, an outage). Neither enters `expected_conversions`: they describe how the history was
observed, not the response on an ordinary future day.
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
    "MAX_S_SHAPE",
    "MIN_SHAPE",
    "TRUTH_FORMAT_VERSION",
    "CampaignEffects",
    "ConversionLag",
    "CurveParams",
    "TrueCurve",
    "TrueEvent",
    "Truth",
    "expected_conversions",
    "marginal_conversions",
    "true_elasticity",
]

TRUTH_FORMAT_VERSION = 1
MIN_SHAPE = 0.5
MAX_SHAPE = 1.0
MAX_S_SHAPE = 4.0
EVENT_KINDS: tuple[str, ...] = ("promo", "outage")
GRAINS: tuple[str, ...] = ("day", "week", "month")
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
class ConversionLag:
    """How a day's conversions are reported over time: `cumulative[a]` is the share reported by
    age a (days from the day to the export's last day; age 0 is the export's last day itself).

    Shares rise to 1 at the last age; older days are complete.
    """

    cumulative: tuple[float, ...]

    def __post_init__(self) -> None:
        shares = np.asarray(self.cumulative, dtype=np.float64)
        if shares.size < 1 or not np.all(np.isfinite(shares)):
            raise InvalidInputError("a conversion lag needs at least one finite cumulative share")
        if np.any(shares <= 0) or np.any(np.diff(shares) < 0) or abs(shares[-1] - 1.0) > 1e-12:
            raise InvalidInputError(
                "cumulative lag shares must be positive, never fall, and end at 1"
            )

    @classmethod
    def typical(
        cls, *, same_day: float = 0.55, mean_days: float = 6.0, horizon: int = 45
    ) -> ConversionLag:
        """`same_day` of the conversions on the day, the rest spread over the next `horizon` days
        as a discretised exponential with mean about `mean_days`."""
        if not (0 < same_day <= 1 and mean_days > 0 and horizon >= 1):
            raise InvalidInputError("lag: 0 < same_day <= 1, mean_days > 0 and horizon >= 1")
        ages = np.arange(horizon + 1, dtype=np.float64)
        tail = (1.0 - np.exp(-ages / mean_days)) / (1.0 - math.exp(-horizon / mean_days))
        shares = same_day + (1.0 - same_day) * tail
        shares[-1] = 1.0
        return cls(tuple(float(v) for v in shares))

    @property
    def horizon(self) -> int:
        return len(self.cumulative) - 1

    @property
    def pmf(self) -> FloatArray:
        """Share of a day's conversions first reported at each age 0..horizon."""
        shares = np.asarray(self.cumulative, dtype=np.float64)
        return np.asarray(np.diff(shares, prepend=0.0), dtype=np.float64)

    def share(self, age: npt.ArrayLike) -> FloatArray:
        """Cumulative share reported by `age` (1 beyond the horizon)."""
        ages = np.asarray(age, dtype=np.int64)
        shares = np.asarray(self.cumulative, dtype=np.float64)
        return np.asarray(np.where(ages >= self.horizon, 1.0, shares[np.clip(ages, 0, None)]))


@dataclass(frozen=True, slots=True)
class TrueEvent:
    """Days [start, end] when every entity's conversions are multiplied by `factor`: a promotion
    (factor > 1) or an outage or tracking break (factor < 1)."""

    start: dt.date
    end: dt.date
    kind: str
    factor: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(f"event ends ({self.end}) before it starts ({self.start})")
        if self.kind not in EVENT_KINDS:
            raise InvalidInputError(f"event kind must be one of {', '.join(EVENT_KINDS)}")
        if not (math.isfinite(self.factor) and self.factor >= 0):
            raise InvalidInputError("an event factor must be a non-negative finite number")

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class TrueCurve:
    """One entity's true expected conversions per day as a function of its daily spend.

    `conversion_rate` > 0 marks an auction-shaped entity: its clicks follow the same curve divided
    by the rate. `daily_budget` > 0 marks an entity whose spend was pinned at that daily budget at
    the end of the history (budget-limited), although the curve goes on above it.
    """

    key: EntityKey
    vmax: float
    k: float
    shape: float
    order_value: float
    effects: CampaignEffects
    conversion_rate: float = 0.0
    daily_budget: float = 0.0

    def __post_init__(self) -> None:
        label = self.key.campaign
        if not (math.isfinite(self.vmax) and self.vmax >= 0):
            raise InvalidInputError(f"{label}: vmax must be a non-negative finite number")
        if not (math.isfinite(self.k) and self.k > 0):
            raise InvalidInputError(f"{label}: the saturation point k must be positive")
        if not MIN_SHAPE <= self.shape <= MAX_S_SHAPE:
            raise InvalidInputError(
                f"{label}: shape must lie in [{MIN_SHAPE}, {MAX_SHAPE}] (concave) or up to "
                f"{MAX_S_SHAPE} (S-shaped)"
            )
        if not (math.isfinite(self.order_value) and self.order_value >= 0):
            raise InvalidInputError(f"{label}: order value must be a non-negative finite number")
        if not (math.isfinite(self.conversion_rate) and 0 <= self.conversion_rate <= 1):
            raise InvalidInputError(f"{label}: a conversion rate must lie in [0, 1]")
        if not (math.isfinite(self.daily_budget) and self.daily_budget >= 0):
            raise InvalidInputError(f"{label}: a daily budget must be a non-negative amount")

    @property
    def s_shaped(self) -> bool:
        return self.shape > MAX_SHAPE

    @property
    def budget_limited(self) -> bool:
        return self.daily_budget > 0


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
    lag: ConversionLag | None = None
    events: tuple[TrueEvent, ...] = ()
    grain: str = "day"

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        if self.grain not in GRAINS:
            raise InvalidInputError(f"grain must be one of {', '.join(GRAINS)}")
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

    def event_factor(self, day: dt.date) -> float:
        """The product of the factors of the events covering `day` (1 on an ordinary day)."""
        return math.prod(e.factor for e in self.events if e.covers(day))

    def to_json(self) -> str:
        payload: dict[str, Any] = {
            "version": TRUTH_FORMAT_VERSION,
            "start": self.start.isoformat(),
            "currency": self.currency,
            "campaigns": [
                {"name": name, "dow": list(e.dow), "trend_per_year": e.trend_per_year}
                for name, e in self.campaigns.items()
            ],
            "entities": [_entity_json(c) for c in self.curves.values()],
        }
        if self.lag is not None:
            payload["lag"] = list(self.lag.cumulative)
        if self.events:
            payload["events"] = [
                {"start": e.start.isoformat(), "end": e.end.isoformat(), "kind": e.kind,
                 "factor": e.factor}
                for e in self.events
            ]  # fmt: skip
        if self.grain != "day":
            payload["grain"] = self.grain
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
                    conversion_rate=float(e.get("conversion_rate", 0.0)),
                    daily_budget=float(e.get("daily_budget", 0.0)),
                )
            lag = payload.get("lag")
            return cls(
                start=dt.date.fromisoformat(payload["start"]),
                currency=str(payload["currency"]),
                campaigns=campaigns,
                curves=curves,
                lag=None if lag is None else ConversionLag(tuple(float(v) for v in lag)),
                events=tuple(
                    TrueEvent(
                        start=dt.date.fromisoformat(e["start"]),
                        end=dt.date.fromisoformat(e["end"]),
                        kind=str(e["kind"]),
                        factor=float(e["factor"]),
                    )
                    for e in payload.get("events", ())
                ),
                grain=str(payload.get("grain", "day")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a valid truth file: {exc!r}") from None


def _entity_json(curve: TrueCurve) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "campaign": curve.key.campaign,
        "ad_group": curve.key.ad_group,
        "keyword": curve.key.keyword,
        "match_type": curve.key.match_type,
        "vmax": curve.vmax,
        "k": curve.k,
        "shape": curve.shape,
        "order_value": curve.order_value,
    }
    if curve.conversion_rate:
        entry["conversion_rate"] = curve.conversion_rate
    if curve.daily_budget:
        entry["daily_budget"] = curve.daily_budget
    return entry


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
    """Derivative of `expected_conversions` in spend (infinite at zero spend when shape < 1, zero
    there when it is S-shaped)."""
    x, vmax, k, s, factor = _prepare(curve, spend, weekday, day_index)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.power(x / k, s)
        at_zero = np.where(s < 1.0, np.inf, np.where(s > 1.0, 0.0, 1.0 / k))
        slope = np.where(x > 0, s * ratio / (x * (1.0 + ratio) ** 2), at_zero)
    result: FloatArray = factor * vmax * slope
    return result


def true_elasticity(curve: TrueCurve, spend: float) -> float:
    """x f'(x) / f(x) of a true curve at `spend` (the calendar cancels out)."""
    return float(spend * marginal_conversions(curve, spend) / expected_conversions(curve, spend))


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
