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
    assert parse_date(cell, TODAY) == (dt.date(2026, 11, 1), DateStatus.OK)


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
