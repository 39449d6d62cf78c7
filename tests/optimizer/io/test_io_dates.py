"""Date cells in the shapes the ad platforms export."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.io.dates import DateStatus, parse_date, parse_dates

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-11-01",
        "2026/11/01",
        "2026-11-01 00:00:00",
        "11/1/2026",
        "01.11.2026",
        "Nov 1, 2026",
        "November 1, 2026",
        "Sunday, November 1, 2026",
        "1 Nov 2026",
        "Nov. 1, 2026",
        "۲۰۲۶-۱۱-۰۱",  # noqa: RUF001
        "٢٠٢٦-١١-٠١",  # noqa: RUF001
        " 2026-11-01\u200f ",
    ],
    ids=[
        "iso",
        "iso-slashes",
        "iso-with-midnight",
        "us",
        "dotted-day-first",
        "short-month",
        "long-month",
        "weekday",
        "day-first-month-name",
        "abbreviation-with-dot",
        "persian-digits",
        "arabic-indic-digits",
        "padding-and-bidi-mark",
    ],
)
def test_accepted_shapes(cell):
    assert parse_date(cell, TODAY, "MDY") == (dt.date(2026, 11, 1), DateStatus.OK)


@pytest.mark.parametrize(
    ("cell", "language"),
    [
        ("1 nov. 2026", "fr"),
        ("1. Nov. 2026", "de"),
        ("1 de nov. de 2026", "es"),
        ("1 nov 2026", "it"),
        ("1 de nov. de 2026", "pt"),
        ("1 nov. 2026", "nl"),
        ("1 lis 2026", "pl"),
        ("1 Kas 2026", "tr"),
        ("1 نوامبر 2026", "fa"),
        ("1 listopada 2026", "pl-genitive"),
        ("niedziela, 1 listopada 2026", "pl-weekday"),
        ("domingo, 1 de noviembre de 2026", "es-weekday"),
        ("1. November 2026", "de-long"),
        ("1 novembre 2026", "fr-long"),
        ("2026年11月1日", "not-read"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isascii() else None,
)
def test_month_names_in_the_languages_exports_are_written_in(cell, language):
    expected = (
        (None, DateStatus.NOT_A_DATE)
        if language == "not-read"
        else (
            dt.date(2026, 11, 1),
            DateStatus.OK,
        )
    )
    assert parse_date(cell, TODAY) == expected


@pytest.mark.parametrize(
    ("cell", "order", "expected"),
    [
        ("03/11/2025", "DMY", dt.date(2025, 11, 3)),
        ("03/11/2025", "MDY", dt.date(2025, 3, 11)),
        ("03-11-2025", "DMY", dt.date(2025, 11, 3)),
        ("13/01/2025", None, dt.date(2025, 1, 13)),
        ("01/13/2025", None, dt.date(2025, 1, 13)),
        ("05/05/2025", None, dt.date(2025, 5, 5)),
    ],
    ids=["dmy-said", "mdy-said", "dashes", "day-proves", "month-proves", "same-either-way"],
)
def test_year_last_dates_follow_the_order(cell, order, expected):
    assert parse_date(cell, TODAY, order) == (expected, DateStatus.OK)


def test_a_date_that_reads_two_ways_is_pending_until_the_order_is_known():
    assert parse_date("03/11/2025", TODAY) == (None, DateStatus.PENDING)


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("", DateStatus.EMPTY),
        ("--", DateStatus.EMPTY),
        ("yesterday", DateStatus.NOT_A_DATE),
        ("Smarch 1, 2026", DateStatus.NOT_A_DATE),
        ("2026-02-30", DateStatus.NOT_REAL),
        ("2/29/2026", DateStatus.NOT_REAL),
        ("2026-13-01", DateStatus.NOT_REAL),
        ("2026-11-27", DateStatus.FUTURE),
        ("1999-12-31", DateStatus.TOO_OLD),
    ],
    ids=[
        "empty",
        "placeholder",
        "word",
        "unknown-month",
        "feb-30",
        "not-a-leap-year",
        "month-13",
        "tomorrow",
        "last-century",
    ],
)
def test_rejected(cell, status):
    assert parse_date(cell, TODAY) == (None, status)


@pytest.mark.parametrize(
    "cell",
    ["2026-06-30 23:59:60", "30.06.2026 24:00", "06/30/2026 12:60:00", "2026-06-30T07:99"],
    ids=["leap-second", "hour-24", "minute-60", "minute-99"],
)
def test_a_time_that_does_not_exist_is_not_read_as_its_date(cell):
    assert parse_date(cell, TODAY) == (None, DateStatus.NOT_REAL)


def test_parse_dates_broadcasts_per_distinct_value():
    column = pd.Series(["2026-11-01", "Nov 2, 2026", "2026-11-01", "2026-02-30"], dtype=str)

    parsed = parse_dates(column, TODAY)

    assert parsed.values.dtype == np.dtype("datetime64[ns]")
    assert parsed.values[:3].tolist() == [
        pd.Timestamp("2026-11-01").value,
        pd.Timestamp("2026-11-02").value,
        pd.Timestamp("2026-11-01").value,
    ]
    assert np.isnat(parsed.values[3])
    assert parsed.status.tolist() == [DateStatus.OK] * 3 + [DateStatus.NOT_REAL]
