"""Report dates in the shapes the ad platforms write them, parsed once per distinct value.

A file has few distinct days, so each distinct cell is parsed in Python (which lets us tell a typo
from an impossible date such as 2026-02-30) and the result is broadcast back to every row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["EARLIEST_DATE", "DateColumn", "DateStatus", "parse_date", "parse_dates"]

EARLIEST_DATE = dt.date(2000, 1, 1)


class DateStatus(IntEnum):
    OK = 0
    EMPTY = 1
    NOT_A_DATE = 2
    NOT_REAL = 3
    FUTURE = 4
    TOO_OLD = 5


@dataclass(frozen=True)
class DateColumn:
    """Midnight datetime64[ns] per row (NaT unless OK) and one status per row."""

    values: npt.NDArray[np.datetime64]
    status: npt.NDArray[np.int8]


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_DIGITS = {0x06F0 + i: ord("0") + i for i in range(10)} | {
    0x0660 + i: ord("0") + i for i in range(10)
}
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\ufeff"))
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_YMD = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_MDY = re.compile(rf"(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}){_TIME}")
_DMY_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_WEEKDAY = r"(?:[a-z]+,?\s+)?"
_MONTH_FIRST = re.compile(rf"{_WEEKDAY}([a-z]+)\.?\s+(\d{{1,2}}),?\s+(\d{{4}})")
_DAY_FIRST = re.compile(rf"{_WEEKDAY}(\d{{1,2}})\.?\s+([a-z]+)\.?,?\s+(\d{{4}})")


def _parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) as written, without checking that the day exists."""
    if match := _YMD.fullmatch(text):
        return int(match[1]), int(match[3]), int(match[4])
    if match := _MDY.fullmatch(text):
        return int(match[3]), int(match[1]), int(match[2])
    if match := _DMY_DOTTED.fullmatch(text):
        return int(match[3]), int(match[2]), int(match[1])
    lowered = text.lower()
    if (match := _MONTH_FIRST.fullmatch(lowered)) and match[1] in _MONTHS:
        return int(match[3]), _MONTHS[match[1]], int(match[2])
    if (match := _DAY_FIRST.fullmatch(lowered)) and match[2] in _MONTHS:
        return int(match[3]), _MONTHS[match[2]], int(match[1])
    return None


def parse_date(cell: str, today: dt.date) -> tuple[dt.date | None, DateStatus]:
    """One cell: ISO, M/D/YYYY, D.M.YYYY, 'Nov 1, 2026', 'Sunday, November 1, 2026'; any digits."""
    text = " ".join(cell.translate(_DIGITS).translate(_BIDI_MARKS).split())
    if text in ("", "--"):
        return None, DateStatus.EMPTY
    parts = _parts(text)
    if parts is None:
        return None, DateStatus.NOT_A_DATE
    try:
        day = dt.date(*parts)
    except ValueError:
        return None, DateStatus.NOT_REAL
    if day > today:
        return None, DateStatus.FUTURE
    if day < EARLIEST_DATE:
        return None, DateStatus.TOO_OLD
    return day, DateStatus.OK


def parse_dates(raw: pd.Series, today: dt.date) -> DateColumn:
    """Parse a column of date cells; rows that are not OK get NaT."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    parsed = [parse_date(str(cell), today) for cell in uniques]
    unique_values = np.array(
        [np.datetime64(day, "ns") if day else np.datetime64("NaT", "ns") for day, _ in parsed],
        dtype="datetime64[ns]",
    )
    unique_status = np.array([status for _, status in parsed], dtype=np.int8)
    return DateColumn(values=unique_values[codes], status=unique_status[codes])
