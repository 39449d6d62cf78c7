"""Read a conversion-lag report: the cumulative share of a day's conversions reported by each age.

Two shapes are read:

- two columns, days since the click and the cumulative share of conversions reported by then
  (`days,cumulative_share` / `0,0.58` / `1,0.71` ...; shares as fractions or percentages);
- Google Ads' "Days to conversion" segment as exported: one row per bucket (`<1 day`,
  `1 to <2 days`, ..., `14 to <21 days`, `60 to <90 days`, also `1-2 days`) with its
  conversions (`Conversions`, `Conv.`, `All conv.`); totals rows are ignored.

A bucket [lo, hi) days after the click fills the ages lo..hi-1 evenly (age a holds the conversions
made within a + 1 days: "<1 day" is the share on the day itself). The profile ends at the last
bucket or day given, where its share is taken as complete. The caller wraps the shares in a
`optimizer.models.lag.LagProfile` (the readers stay below the models).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.io.encoding import Source, describe_decode_error, open_text
from optimizer.io.numbers import NumberStatus, detect_decimal_comma, parse_micros

__all__ = ["LagReport", "read_lag_report"]

_DAYS = ("days", "days since click", "days to conversion", "age", "day")
_SHARE = ("cumulative share", "cumulative_share", "cumulative", "share", "cumulative %")
_COUNT = ("conversions", "conv.", "all conv.", "all conversions", "conv")
_BUCKET = re.compile(r"^\s*(?:(\d+)\s*(?:to|-)\s*<?\s*(\d+)|<\s*(\d+)|(\d+)\s*\+)\s*days?\s*$")
_MAX_DAYS = 365
_MICROS = 1_000_000


@dataclass(frozen=True)
class LagReport:
    """Cumulative shares by age 0.. (the last is 1) and what they were read from, in words."""

    cumulative: tuple[float, ...]
    detail: str


def read_lag_report(source: Source, *, name: str = "lag report") -> LagReport:
    """The shares in a lag report (see the module docstring); InvalidInputError says what to fix."""
    try:
        with open_text(source) as (text, encoding):
            try:
                lines = text.read().splitlines()
                delimiter = _delimiter(lines)
                rows = [
                    row
                    for row in csv.reader(lines, delimiter=delimiter)
                    if any(cell.strip() for cell in row)
                ]
            except UnicodeDecodeError:
                raise InvalidInputError(describe_decode_error(encoding)) from None
    except csv.Error as exc:
        raise InvalidInputError(f"{name} is not a readable CSV: {exc}") from None
    header_at = next(
        (i for i, row in enumerate(rows) if _find(row, _DAYS) is not None),
        None,
    )
    if header_at is None:
        raise InvalidInputError(
            f"{name} has no column of days (expected e.g. 'days' or 'Days to conversion')"
        )
    header, body = rows[header_at], rows[header_at + 1 :]
    days_col = _find(header, _DAYS)
    share_col, count_col = _find(header, _SHARE), _find(header, _COUNT)
    assert days_col is not None
    if share_col is not None:
        return _from_shares(body, days_col, share_col, name)
    if count_col is not None:
        return _from_buckets(body, days_col, count_col, name)
    raise InvalidInputError(
        f"{name} needs a cumulative share column ('cumulative_share') or a conversions column "
        "('Conversions') beside its days"
    )


def _delimiter(lines: list[str]) -> str:
    """';' for a file whose first lines use semicolons and no commas outside numbers (as exports
    in languages with a decimal comma do), else ','."""
    head = [line for line in lines[:5] if line.strip()]
    if head and all(";" in line for line in head) and not any("," in h for h in head[:1]):
        return ";"
    return ","


def _find(row: Sequence[str], names: tuple[str, ...]) -> int | None:
    cleaned = [cell.strip().strip("\ufeff").lower() for cell in row]
    return next((i for i, cell in enumerate(cleaned) if cell in names), None)


def _numbers(cells: list[str], what: str, name: str) -> np.ndarray:
    percent = [c.strip().endswith("%") for c in cells]
    raw = pd.Series([c.strip().rstrip("%").strip() for c in cells], dtype=object)
    parsed = parse_micros(raw, decimal_comma=detect_decimal_comma([raw]))
    bad = np.flatnonzero(parsed.status != NumberStatus.OK)
    if bad.size:
        raise InvalidInputError(f"{name}: {what} '{cells[bad[0]]}' is not a number")
    values = parsed.values.astype(np.float64) / _MICROS
    return np.where(percent, values / 100.0, values)


def _from_shares(body: list[list[str]], days_col: int, share_col: int, name: str) -> LagReport:
    usable = [r for r in body if len(r) > max(days_col, share_col) and r[days_col].strip()]
    if not usable:
        raise InvalidInputError(f"{name} has no rows of days and shares")
    days = _numbers([r[days_col] for r in usable], "day", name)
    shares = _numbers([r[share_col] for r in usable], "share", name)
    if np.any(days != np.floor(days)) or np.any(days < 0) or days.max() > _MAX_DAYS:
        raise InvalidInputError(f"{name}: days must be whole numbers from 0 to {_MAX_DAYS}")
    if shares.max() > 1.0 + 1e-9 and shares.max() <= 100.0:
        shares = shares / 100.0
    order = np.argsort(days)
    days, shares = days[order].astype(np.int64), shares[order]
    if np.any(np.diff(days) == 0) or np.any(shares <= 0) or np.any(np.diff(shares) < -1e-9):
        raise InvalidInputError(
            f"{name}: each day once, with cumulative shares above 0 that never fall"
        )
    ages = np.arange(int(days[-1]) + 1)
    profile = np.interp(ages, days, shares) / shares[-1]
    profile[-1] = 1.0
    return _profile(profile, f"{len(days)} days given, up to day {int(days[-1])}")


def _from_buckets(body: list[list[str]], days_col: int, count_col: int, name: str) -> LagReport:
    buckets: list[tuple[int, int, float]] = []
    for row in body:
        if len(row) <= max(days_col, count_col):
            continue
        match = _BUCKET.match(row[days_col].strip().lower())
        if match is None:
            continue
        low, high, under, beyond = match.groups()
        if under is not None:
            span = (0, int(under))
        elif beyond is not None:
            span = (int(beyond), int(beyond) + 30)
        else:
            span = (int(low), int(high))
        count = float(_numbers([row[count_col]], "conversions", name)[0])
        buckets.append((span[0], span[1], count))
    if not buckets:
        raise InvalidInputError(
            f"{name} has no buckets of days to conversion ('<1 day', '1 to <2 days', ...)"
        )
    buckets.sort()
    total = sum(c for _, _, c in buckets)
    if total <= 0 or buckets[-1][1] > _MAX_DAYS:
        raise InvalidInputError(f"{name}: its buckets hold no conversions, or reach past a year")
    per_day = np.zeros(buckets[-1][1])
    for low, high, count in buckets:
        per_day[low:high] += count / max(high - low, 1)
    profile = np.cumsum(per_day) / total
    if profile[0] <= 0:
        raise InvalidInputError(f"{name}: no conversions within the first day")
    profile[-1] = 1.0
    return _profile(profile, f"{len(buckets)} buckets, {total:,.0f} conversions")


def _profile(shares: np.ndarray, detail: str) -> LagReport:
    return LagReport(tuple(float(v) for v in np.maximum.accumulate(shares)), detail)
