"""Report dates in the shapes the ad platforms write them, parsed once per distinct value.

A file has few distinct days, so each distinct cell is parsed in Python (which lets us tell a typo
from an impossible date such as 2026-02-30) and the result is broadcast back to every row.

Month and weekday names come from CLDR (babel) for every language whose exports we read ("Nov 3,
2025", "3 nov. 2025", "3. Nov. 2025", "3 de nov. de 2025", "3 Kas 2025"). Numeric dates with the
year last and the day and month both 12 or less ("03/11/2025", "03-11-2025") read two ways and are
never guessed: they are PENDING until the order is known, from the caller (a `--date-order` flag or
the account's locale) or from the file itself (a day above 12 anywhere in it); see `DateEvidence`.
Dotted dates (03.11.2025) are day first, as every locale that writes them means.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from babel import Locale
from babel.dates import get_date_format, get_day_names, get_month_names

__all__ = [
    "DATE_ORDERS",
    "EARLIEST_DATE",
    "DateColumn",
    "DateEvidence",
    "DateOrder",
    "DateStatus",
    "date_order_for",
    "parse_date",
    "parse_dates",
    "text_evidence",
]

EARLIEST_DATE = dt.date(2000, 1, 1)
DateOrder = Literal["DMY", "MDY"]
DATE_ORDERS: tuple[DateOrder, ...] = ("DMY", "MDY")
_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "fa")


class DateStatus(IntEnum):
    OK = 0
    EMPTY = 1
    NOT_A_DATE = 2
    NOT_REAL = 3
    FUTURE = 4
    TOO_OLD = 5
    PENDING = 6
    """Reads two ways (03/11/2025) and the order is not known yet."""


@dataclass(frozen=True)
class DateColumn:
    """Midnight datetime64[ns] per row (NaT unless OK) and one status per row."""

    values: npt.NDArray[np.datetime64]
    status: npt.NDArray[np.int8]


@dataclass
class DateEvidence:
    """What a file's numeric dates say about their order: a cell only one order can read, per
    order, and the first cell that reads two ways (for the message), each with its line."""

    only: dict[DateOrder, tuple[int, str]] = field(default_factory=dict)
    first_ambiguous: tuple[int, str] | None = None

    def add(self, other: DateEvidence) -> None:
        for order, seen in other.only.items():
            self.only.setdefault(order, seen)
        if self.first_ambiguous is None:
            self.first_ambiguous = other.first_ambiguous


def _fold(text: str) -> str:
    stripped = unicodedata.normalize("NFKC", text).casefold().strip(". ")
    return "".join(
        c for c in unicodedata.normalize("NFD", stripped) if not unicodedata.combining(c)
    )


@functools.cache
def _month_words() -> dict[str, int]:
    """Month names and abbreviations in every language we read -> month number (1-12). A word
    that means different months in two languages is left out rather than guessed."""
    found: dict[str, set[int]] = {}
    for language in _LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                names = get_month_names(width, context=context, locale=language)
                for number, name in names.items():
                    found.setdefault(_fold(name), set()).add(int(number))
    found.setdefault("sept", set()).add(9)
    return {word: next(iter(months)) for word, months in found.items() if len(months) == 1}


@functools.cache
def _skipped_words() -> frozenset[str]:
    """Weekday names and the little words between the parts of a date ('3 de nov. de 2025')."""
    words = {"de", "del", "of", "the", "den", "der", "le", "el"}
    for language in _LANGUAGES:
        for width in ("wide", "abbreviated"):
            words.update(_fold(n) for n in get_day_names(width, locale=language).values())
    return frozenset(words - set(_month_words()))


_DIGITS = {0x06F0 + i: ord("0") + i for i in range(10)} | {
    0x0660 + i: ord("0") + i for i in range(10)
}
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\ufeff"))
_TIME = r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
_YMD = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_YEAR_LAST = re.compile(rf"(\d{{1,2}})([/-])(\d{{1,2}})\2(\d{{4}}){_TIME}")
_DMY_DOTTED = re.compile(rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}){_TIME}")
_TOKENS = re.compile(r"\d+|[^\W\d_]+")

_Parts = tuple[int, int, int]


def _numeric(text: str, order: DateOrder | None) -> _Parts | DateStatus | None:
    """(year, month, day) of a numeric date; PENDING when it reads two ways and `order` is None,
    NOT_REAL when its time of day does not exist."""
    for pattern in (_YMD, _DMY_DOTTED, _YEAR_LAST):
        if (match := pattern.fullmatch(text)) and not _real_time(match):
            return DateStatus.NOT_REAL
    if match := _YMD.fullmatch(text):
        return int(match[1]), int(match[3]), int(match[4])
    if match := _DMY_DOTTED.fullmatch(text):
        return int(match[3]), int(match[2]), int(match[1])
    if match := _YEAR_LAST.fullmatch(text):
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        if order is None:
            if first <= 12 and second <= 12 and first != second:
                return DateStatus.PENDING
            order = "DMY" if first > 12 else "MDY"
        return (year, second, first) if order == "DMY" else (year, first, second)
    return None


def _real_time(match: re.Match[str]) -> bool:
    """A time part, if any, within 00:00:00-23:59:59: a leap second (23:59:60) or 24:00 is not
    silently read as the date it is written on (Python's datetime has no leap seconds either)."""
    hour, minute, second = match["hour"], match["minute"], match["second"]
    if hour is None:
        return True
    return int(hour) <= 23 and int(minute) <= 59 and (second is None or int(second) <= 59)


def _worded(text: str) -> _Parts | None:
    """A date with its month in words, in any language we read, in any order of the parts."""
    tokens = [_fold(token) for token in _TOKENS.findall(text)]
    tokens = [token for token in tokens if token not in _skipped_words()]
    months = [_month_words()[token] for token in tokens if token in _month_words()]
    numbers = [token for token in tokens if token.isdigit()]
    if len(months) != 1 or len(numbers) != 2 or len(tokens) != 3:
        return None
    years = [int(n) for n in numbers if len(n) == 4]
    days = [int(n) for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return None
    return years[0], months[0], days[0]


def _clean(cell: str) -> str:
    return " ".join(cell.translate(_DIGITS).translate(_BIDI_MARKS).split())


def parse_date(
    cell: str, today: dt.date, order: DateOrder | None = None
) -> tuple[dt.date | None, DateStatus]:
    """One cell: ISO, D/M/Y or M/D/Y (by `order`), D.M.Y, month in words; any digits."""
    text = _clean(cell)
    if text in ("", "--"):
        return None, DateStatus.EMPTY
    parts = _numeric(text, order)
    if parts is None:
        parts = _worded(text)
    if isinstance(parts, DateStatus):
        return None, parts
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


def parse_dates(raw: pd.Series, today: dt.date, order: DateOrder | None = None) -> DateColumn:
    """Parse a column of date cells; rows that are not OK get NaT (PENDING rows too)."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    parsed = [parse_date(str(cell), today, order) for cell in uniques]
    unique_values = np.array(
        [np.datetime64(day, "ns") if day else np.datetime64("NaT", "ns") for day, _ in parsed],
        dtype="datetime64[ns]",
    )
    unique_status = np.array([status for _, status in parsed], dtype=np.int8)
    return DateColumn(values=unique_values[codes], status=unique_status[codes])


def date_evidence(raw: pd.Series, lines: npt.NDArray[np.int64]) -> DateEvidence:
    """Which order a column's year-last numeric dates allow (see `DateEvidence`)."""
    evidence = DateEvidence()
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    first_line = _first_lines(codes, lines, len(uniques))
    for index, cell in enumerate(uniques):
        match = _YEAR_LAST.fullmatch(_clean(str(cell)))
        if match is None:
            continue
        first, second = int(match[1]), int(match[3])
        seen = (int(first_line[index]), str(cell))
        if first > 12 and second <= 12:
            evidence.only.setdefault("DMY", seen)
        elif second > 12 and first <= 12:
            evidence.only.setdefault("MDY", seen)
        elif first != second and first <= 12 and second <= 12:
            earlier = evidence.first_ambiguous
            if earlier is None or seen[0] < earlier[0]:
                evidence.first_ambiguous = seen
    return evidence


def text_evidence(lines: Iterable[str]) -> DateEvidence:
    """What dates in free text (a report's title lines: "Report Time: 11/26/2026 10:15 AM") say
    about the file's order, with 1-based line numbers."""
    evidence = DateEvidence()
    for number, line in enumerate(lines, start=1):
        for match in re.finditer(r"(?<!\d)(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?!\d)", _clean(line)):
            first, second = int(match[1]), int(match[3])
            if first > 12 and second <= 12:
                evidence.only.setdefault("DMY", (number, match[0]))
            elif second > 12 and first <= 12:
                evidence.only.setdefault("MDY", (number, match[0]))
    return evidence


def _first_lines(
    codes: npt.NDArray[np.intp], lines: npt.NDArray[np.int64], count: int
) -> npt.NDArray[np.int64]:
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, lines)
    return first


def readings(cell: str) -> dict[DateOrder, str]:
    """Both ISO readings of a cell that reads two ways, for messages."""
    match = _YEAR_LAST.fullmatch(_clean(cell))
    if match is None:
        return {}
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    found: dict[DateOrder, str] = {}
    for order, (month, day) in (("DMY", (second, first)), ("MDY", (first, second))):
        try:
            found[order] = dt.date(year, month, day).isoformat()  # type: ignore[index]
        except ValueError:
            continue
    return found


def date_order_for(locale: str | None) -> DateOrder | None:
    """The order of day and month in the locale's short date (en_GB: DMY, en_US: MDY); None for
    locales that write the year first (fa, ja) or no locale."""
    if locale is None:
        return None
    pattern = get_date_format("short", locale=Locale.parse(locale)).pattern
    day, month, year = pattern.find("d"), pattern.find("M"), pattern.find("y")
    if min(day, month, year) < 0 or year < max(day, month):
        return None
    return "DMY" if day < month else "MDY"


def orders(values: Iterable[str]) -> tuple[DateOrder, ...]:
    """Validated date orders from user text ("dmy" -> "DMY")."""
    return tuple(value.strip().upper() for value in values)  # type: ignore[misc]
