"""What the fit knows about the days of a history besides the rows: their grain, how complete their
conversions are, and which are not ordinary.

`FitContext` is what a caller passes in (the account's lag profile, the export's last day and its
events); `DayAxis` is what every campaign fit of a history shares: one column per day, or per week
or month when the rows are that far apart (`detect_grain`), with the share of conversions already
reported, the excluded columns and the promotion share of each column.

Rows a week or a month apart are fitted on their own grain: a column's spend is its average daily
spend and its exposure counts its days, so the Poisson likelihood sees the period's real count
while the curve stays a per-day curve (the plan is stated per day). Weekday factors cannot be seen
in such rows and stay at 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.models.events import Event
from optimizer.models.lag import LagProfile

__all__ = ["GRAINS", "DayAxis", "FitContext", "Grain", "axis_columns", "detect_grain"]

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_WEEK = 7
_MONTH_GAPS = frozenset({28, 29, 30, 31})


@dataclass(frozen=True)
class FitContext:
    """An account's facts the fit cannot see in its rows.

    lag: the conversion lag profile (None: conversions are final). as_of: the export's last day,
    from which the age of every day is counted (default: the history's last day). reported: the
    last upload date that reported each day, where the store knows it; with a known profile
    (a report or learned) and daily rows a day's age is counted to it instead, because a day no
    upload sent again keeps the conversions it had then: the script re-sends a window shorter
    than the lag, or stopped for a while. The default profile is a guess and keeps counting to
    `as_of`, as weekly and monthly rows do (an upload's last date is its last period's first
    day). events: the account's confirmed events.
    """

    lag: LagProfile | None = None
    as_of: dt.date | None = None
    events: tuple[Event, ...] = field(default_factory=tuple)
    reported: Mapping[dt.date, dt.date] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))


def detect_grain(dates: npt.ArrayLike) -> Grain:
    """'day', 'week' or 'month' from the distinct dates of a history.

    Daily when the most common gap between distinct dates is one day (other gaps are missing days,
    read as zeros); weekly when every gap is a whole number of weeks; monthly when every date is
    the same day of its month and every gap a whole month. Anything else (rows mostly a week apart
    with a stray row inside a week, or rows 3 days apart) is refused, naming a date that breaks
    the pattern.
    """
    days = np.unique(np.asarray(dates, dtype="datetime64[D]"))
    if days.size < 3:
        return "day"
    gaps = np.diff(days).astype(np.int64)
    values, counts = np.unique(gaps, return_counts=True)
    usual = int(values[np.argmax(counts)])
    if usual == 1:
        return "day"
    if (gaps % _WEEK == 0).all():
        return "week"
    stamps = pd.DatetimeIndex(days)
    months = stamps.year * 12 + stamps.month
    if stamps.day.nunique() == 1 and set(gaps) <= _MONTH_GAPS and (np.diff(months) == 1).all():
        return "month"
    odd = days[1:][gaps % usual != 0] if usual in (_WEEK,) else days[1:][gaps != usual]
    example = f"; e.g. {odd[0]}" if odd.size else ""
    raise InvalidInputError(
        f"the rows are mostly {usual} days apart (from {days[0]} to {days[-1]}) but not evenly"
        f"{example}: neither daily, weekly nor monthly, so they cannot be read as days; export "
        "daily, weekly (one row per week) or monthly rows"
    )


def axis_columns(first: dt.date, last: dt.date, grain: Grain) -> tuple[IntArray, FloatArray]:
    """(day offset of each column's first day from `first`, days in each column) from `first` to
    the column holding `last`."""
    span = (last - first).days
    if grain == "day":
        return np.arange(span + 1, dtype=np.int64), np.ones(span + 1)
    if grain == "week":
        offsets = np.arange(0, span + 1, _WEEK, dtype=np.int64)
        return offsets, np.full(offsets.size, float(_WEEK))
    starts = pd.date_range(first, last, freq=pd.DateOffset(months=1))
    offsets = np.asarray((starts - pd.Timestamp(first)).days, dtype=np.int64)
    return offsets, np.asarray(starts.days_in_month, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class DayAxis:
    """Per column of a history: its first day (offset from the history's start), its days, the
    share of its conversions reported at export time, whether it is excluded, and for each promotion
    the share of its days inside it (promotions x columns)."""

    grain: Grain
    offsets: IntArray
    lengths: FloatArray
    reported: FloatArray
    excluded: BoolArray
    promo: FloatArray

    @classmethod
    def daily(cls, days: int) -> DayAxis:
        """Plain days: complete, none excluded, no promotion."""
        return cls(
            grain="day",
            offsets=np.arange(days, dtype=np.int64),
            lengths=np.ones(days),
            reported=np.ones(days),
            excluded=np.zeros(days, dtype=bool),
            promo=np.zeros((0, days)),
        )

    @classmethod
    def build(
        cls, start: dt.date, last: dt.date, grain: Grain, context: FitContext | None
    ) -> DayAxis:
        """The axis of a history from `start` to its last row date `last`."""
        offsets, lengths = axis_columns(start, last, grain)
        columns = offsets.size
        if context is None:
            return cls(grain, offsets, lengths, np.ones(columns), np.zeros(columns, bool),
                       np.zeros((0, columns)))  # fmt: skip
        end = int(offsets[-1] + lengths[-1] - 1)
        as_of = start + dt.timedelta(days=end) if context.as_of is None else context.as_of
        day = np.arange(end + 1)
        column = np.repeat(np.arange(columns), lengths.astype(np.int64))
        dates = [start + dt.timedelta(days=int(d)) for d in day]
        share = np.ones(end + 1)
        if context.lag is not None:
            ages = (as_of - start).days - day
            if context.reported and context.lag.measured and grain == "day":
                ages = np.array(
                    [(min(context.reported.get(d, as_of), as_of) - d).days for d in dates]
                )
            share = context.lag.share(ages)
        reported = np.bincount(column, weights=share, minlength=columns) / lengths
        out = np.zeros(end + 1)
        promos = [e for e in context.events if not e.excludes]
        promo = np.zeros((len(promos), columns))
        for event in context.events:
            inside = np.array([event.start <= d <= event.end for d in dates], dtype=np.float64)
            if event.excludes:
                out = np.maximum(out, inside)
            else:
                promo[promos.index(event)] = np.bincount(column, inside, columns) / lengths
        excluded = np.bincount(column, weights=out, minlength=columns) / lengths > 0.5
        keep = promo.any(axis=1)
        return cls(grain, offsets, lengths, reported, excluded, promo[keep])

    @property
    def columns(self) -> int:
        return int(self.offsets.size)

    @property
    def span_days(self) -> int:
        """Days from the first column's first day to the last column's last day, inclusive."""
        return int(self.offsets[-1] + self.lengths[-1]) if self.columns else 0

    @property
    def plain(self) -> bool:
        """Daily, complete, nothing excluded, no promotion: the fit as it always was."""
        return (
            self.grain == "day"
            and bool((self.reported == 1.0).all())
            and not self.excluded.any()
            and self.promo.shape[0] == 0
        )

    def discounted(self) -> int:
        """Columns at the end whose reported share is below 99%."""
        below = self.reported < 0.99
        return int(below.size - np.flatnonzero(~below)[-1] - 1) if (~below).any() else below.size
