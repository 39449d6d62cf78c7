"""Account events (promotions, outages, tracking breaks) and the detection of unexplained runs of
days that a person should look at.

An `outage` or `exclude` event takes its days out of the fit (a site outage or a broken
conversion tag says nothing about the response to spend); a `promo` gets its own factor, estimated
with the weekday factors and trend, so it neither inflates the curves nor the trend. The factor is
not carried into the forecast by itself: a future day is an ordinary day unless a person states
the promotion's `lift` (the expected conversions per unit of spend, relative to an ordinary day, as
Google Ads' seasonality adjustments take a conversion-rate change); the period plan then counts
those days at that factor (`planned_lift`) and moves money toward them.

`detect_events` compares the account's daily conversions with what the fitted curves expect at the
day's spend and calendar, and proposes runs of consecutive days far above (a promotion) or below
(an outage or tracking break) as events; a person confirms or dismisses them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from optimizer.errors import InvalidInputError

__all__ = [
    "EVENT_KINDS",
    "MAX_LIFT",
    "Event",
    "EventKind",
    "ProposedEvent",
    "detect_events",
    "planned_lift",
]

EventKind = Literal["promo", "outage", "exclude"]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)

FloatArray = npt.NDArray[np.float64]

_MAX_EVENT_DAYS = 366
MAX_LIFT = 10.0
"""The largest stated lift: beyond it, a typo is likelier than a promotion."""
_Z_DAY = 1.0
_Z_RUN = 5.0
_MIN_RUN = 2
_Z_SINGLE = 5.0
_MIN_EXPECTED = 1.0
_CHI2_MEDIAN = 0.4549364231195724


@dataclass(frozen=True, slots=True)
class Event:
    """Days [start, end] of an account that are not ordinary."""

    start: dt.date
    end: dt.date
    kind: EventKind
    lift: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise InvalidInputError(
                f"event kind must be one of {', '.join(EVENT_KINDS)}, not '{self.kind}'"
            )
        if self.lift is not None:
            if self.kind != "promo":
                raise InvalidInputError("only a promotion can state a lift")
            if not (math.isfinite(self.lift) and 0 < self.lift <= MAX_LIFT):
                raise InvalidInputError(
                    f"a promotion's lift is a factor above 0 and at most {MAX_LIFT:g} "
                    f"(1.4 = 40% more conversions for the same spend), not {self.lift}"
                )
        if self.end < self.start:
            raise InvalidInputError(f"an event cannot end ({self.end}) before it starts")
        if (self.end - self.start).days + 1 > _MAX_EVENT_DAYS:
            raise InvalidInputError(f"an event covers at most {_MAX_EVENT_DAYS} days")

    @property
    def excludes(self) -> bool:
        return self.kind != "promo"

    def days_in(self, first: dt.date, last: dt.date) -> int:
        """How many of the days first..last the event covers."""
        lo, hi = max(first, self.start), min(last, self.end)
        return max(0, (hi - lo).days + 1)


@dataclass(frozen=True, slots=True)
class ProposedEvent:
    """A run of days the fit could not explain: its kind, and why (in words)."""

    start: dt.date
    end: dt.date
    kind: EventKind
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "kind": self.kind,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> ProposedEvent:
        kind = str(data["kind"])
        if kind not in EVENT_KINDS:
            raise InvalidInputError(f"unknown event kind '{kind}'")
        return cls(
            dt.date.fromisoformat(data["start"]),
            dt.date.fromisoformat(data["end"]),
            kind,  # type: ignore[arg-type]
            str(data["reason"]),
        )


def planned_lift(events: Sequence[Event], days: Sequence[dt.date]) -> FloatArray:
    """Each day's stated factor: the product of the lifts of the promotions covering it (1 for an
    ordinary day, and for a promotion without a stated lift)."""
    factors = np.ones(len(days), dtype=np.float64)
    for event in events:
        if event.lift is None:
            continue
        inside = np.array([event.start <= d <= event.end for d in days], dtype=bool)
        factors[inside] *= event.lift
    return factors


def detect_events(
    first: dt.date,
    observed: FloatArray,
    expected: FloatArray,
    known: tuple[Event, ...] = (),
) -> list[ProposedEvent]:
    """Runs of days (from `first`) whose conversions the curves do not explain.

    `observed` and `expected` are the account's daily conversions and what the fitted curves,
    calendar and lag expect at that day's spend. Each day's Pearson residual is scaled by the
    over-dispersion, estimated robustly (the median squared residual), so ordinary noise and
    ordinary weeks do not count. Runs of consecutive days beyond 1 in the same direction (a day
    between two such days that leans the same way joins them) are scored together (their summed
    residuals over the square root of their length); a run of two days or more scoring above 5,
    or a single day beyond 5, is proposed: above as a promotion, below as an outage (a day with
    nothing where conversions were expected is a tracking break). Days already covered by a
    known event are skipped, and so are days with under one expected conversion (too little to
    tell).
    """
    y = np.asarray(observed, dtype=np.float64)
    mu = np.asarray(expected, dtype=np.float64)
    days = y.size
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    covered = np.array([any(e.start <= d <= e.end for e in known) for d in dates], dtype=bool)
    usable = (mu >= _MIN_EXPECTED) & ~covered
    if usable.sum() < 14:
        return []
    residual = np.where(usable, (y - mu) / np.sqrt(np.where(usable, mu, 1.0)), 0.0)
    dispersion = max(1.0, float(np.median(residual[usable] ** 2)) / _CHI2_MEDIAN)
    z = residual / math.sqrt(dispersion)
    proposals: list[ProposedEvent] = []
    for sign, kind in ((1.0, "promo"), (-1.0, "outage")):
        flagged = usable & (sign * z > _Z_DAY)
        gap = np.zeros_like(flagged)
        gap[1:-1] = flagged[:-2] & flagged[2:] & (sign * z[1:-1] > 0)
        flagged |= gap
        for lo, hi in _runs(flagged):
            length = hi - lo + 1
            combined = float(np.sum(sign * z[lo : hi + 1])) / math.sqrt(length)
            strongest = float(np.max(sign * z[lo : hi + 1]))
            if not ((length >= _MIN_RUN and combined > _Z_RUN) or strongest > _Z_SINGLE):
                continue
            seen, wanted = float(y[lo : hi + 1].sum()), float(mu[lo : hi + 1].sum())
            broken = kind == "outage" and seen == 0
            what = "no conversions" if broken else f"{seen:,.0f} conversions"
            label = "tracking break or outage" if broken else kind
            if kind == "outage" and hi == days - 1 and not broken:
                label = "conversion lag (the latest days not fully reported yet) or an outage"
            proposals.append(
                ProposedEvent(
                    dates[lo],
                    dates[hi],
                    kind,  # type: ignore[arg-type]
                    f"{what} where the curves expected {wanted:,.0f} "
                    f"({length} day{'s' if length > 1 else ''}, {combined:.1f} standard "
                    f"deviations off together): looks like a {label}",
                )
            )
    return sorted(proposals, key=lambda p: p.start)


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) index of every run of True."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(edges[i]), int(edges[i + 1]) - 1) for i in range(0, len(edges), 2)]
