"""Row rules: each problem names the file's line, the file's own column header and the raw value."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer.errors import RowIssue
from optimizer.io import read_performance
from optimizer.schema import ReadResult

TODAY = dt.date(2026, 11, 26)
HEADER = "Day,Campaign,Keyword,Cost,Clicks,Impr.,Conversions,Conv. value"
GOOD = "2026-11-01,Brand,shoes,1.00,10,100,1,5.00"


def _read(*rows: str):
    """A Google-style file: one title line, the header on line 2, the first data row on line 3."""
    text = "\n".join(["Keyword report", HEADER, *rows]) + "\n"
    return read_performance(text.encode(), today=TODAY)


def _only_error(result: ReadResult) -> RowIssue:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        ("2026-02-30,Brand,shoes,1,1,1,0,0", "Day", "2026-02-30", "2026-02-30 is not a real date"),
        ("soon,Brand,shoes,1,1,1,0,0", "Day", "soon", "'soon' is not a date we recognise"),
        (
            "2026-11-27,Brand,shoes,1,1,1,0,0",
            "Day",
            "2026-11-27",
            "date is in the future (after 2026-11-26)",
        ),
        (",Brand,shoes,1,1,1,0,0", "Day", "", "date is empty"),
        ("2026-11-02,Brand,shoes,-1.50,1,1,0,0", "Cost", "-1.50", "spend cannot be negative"),
        ("2026-11-02,Brand,shoes,abc,1,1,0,0", "Cost", "abc", "spend is not a number"),
        ("2026-11-02,Brand,shoes,inf,1,1,0,0", "Cost", "inf", "spend must be a finite number"),
        ("2026-11-02,Brand,shoes,NaN,1,1,0,0", "Cost", "NaN", "spend must be a finite number"),
        ("2026-11-02,Brand,shoes,1e308,1,1,0,0", "Cost", "1e308", "spend is too large"),
        ("2026-11-02,Brand,shoes,,1,1,0,0", "Cost", "", "spend is empty"),
        ("2026-11-02,Brand,shoes,1,2.5,1,0,0", "Clicks", "2.5", "clicks must be a whole number"),
        ("2026-11-02,Brand,shoes,1,1,-3,0,0", "Impr.", "-3", "impressions cannot be negative"),
        (
            "2026-11-02,Brand,shoes,1,1,10.5,0,0",
            "Impr.",
            "10.5",
            "impressions must be a whole number",
        ),
        (
            "2026-11-02,Brand,shoes,1,1,1,-1,0",
            "Conversions",
            "-1",
            "conversions cannot be negative",
        ),
        (
            "2026-11-02,Brand,shoes,1,1,1,0,x1",
            "Conv. value",
            "x1",
            "conversion value is not a number",
        ),
        ("2026-11-01,,shoes,1,1,1,0,0", "Campaign", "", "campaign name is empty"),
        ("2026-11-01,--,shoes,1,1,1,0,0", "Campaign", "--", "campaign name is empty"),
    ],
    ids=[
        "impossible-date",
        "unreadable-date",
        "future-date",
        "empty-date",
        "negative-spend",
        "non-numeric-spend",
        "infinite-spend",
        "nan-spend",
        "overflowing-spend",
        "empty-required-number",
        "fractional-clicks",
        "negative-impressions",
        "fractional-impressions",
        "negative-conversions",
        "non-numeric-value",
        "empty-campaign",
        "placeholder-campaign",
    ],
)
def test_each_rule_reports_line_column_and_value(row, column, value, message):
    result = _read(GOOD, row)

    issue = _only_error(result)
    assert (issue.line, issue.column, issue.value, issue.severity) == (4, column, value, "error")
    assert issue.message.startswith(message)
    assert result.frame["line"].tolist() == [3]
    assert result.rejected_lines == frozenset({4})


def test_empty_optional_numbers_are_zero_not_errors():
    result = _read("2026-11-01,Brand,shoes,1,1,--,0,")

    assert result.errors == ()
    assert result.frame[["impressions", "value_micros"]].iloc[0].tolist() == [0, 0]


def test_one_row_can_have_several_errors_in_column_order():
    result = _read("2026-02-30,Brand,shoes,-1,1.5,1,0,0")

    assert [(issue.line, issue.column) for issue in result.errors] == [
        (3, "Day"),
        (3, "Cost"),
        (3, "Clicks"),
    ]
    assert result.frame.empty


def test_duplicate_entity_day_is_an_error_on_every_occurrence():
    result = _read(GOOD, "2026-11-02,Brand,shoes,1,1,1,0,0", GOOD, GOOD)

    assert [(issue.line, issue.column, issue.value) for issue in result.errors] == [
        (3, None, None),
        (5, None, None),
        (6, None, None),
    ]
    assert "Brand / shoes on 2026-11-01" in result.errors[0].message
    assert result.errors[0].message.endswith("(also on lines 5, 6)")
    assert result.errors[1].message.endswith("(also on lines 3, 6)")
    assert result.frame["line"].tolist() == [4]


def test_same_names_on_different_levels_are_not_duplicates():
    result = _read(GOOD, "2026-11-01,Brand,boots,1.00,10,100,1,5.00", "2026-11-01,Brand,,1,1,1,0,0")

    assert result.errors == ()
    assert len(result.frame) == 3


def test_more_conversions_than_clicks_is_a_warning_and_the_row_is_kept():
    result = _read("2026-11-01,Brand,shoes,1,2,10,2.5,0")

    assert result.errors == ()
    (warning,) = result.warnings
    assert (warning.line, warning.column, warning.value, warning.severity) == (
        3,
        "Conversions",
        "2.5",
        "warning",
    )
    assert "more conversions (2.5) than clicks (2)" in warning.message
    assert result.frame["line"].tolist() == [3]


def test_row_with_more_cells_than_the_header_is_rejected():
    result = _read("2026-11-01,Shoes, Boots & Socks,shoes,1,1,1,0,0")

    assert [(issue.line, issue.column) for issue in result.errors] == [(3, "Cost"), (3, None)]
    assert "more cells than the header (8)" in result.errors[1].message
    assert "unquoted comma" in result.errors[1].message


def test_date_before_2000_is_rejected():
    issue = _only_error(_read(GOOD, "1999-12-31,Brand,shoes,1,1,1,0,0"))

    assert (issue.line, issue.column, issue.value) == (4, "Day", "1999-12-31")


def test_long_duplicate_lists_are_shortened():
    result = _read(*[GOOD] * 13)

    assert len(result.errors) == 13
    assert result.errors[0].message.endswith(
        "(also on lines 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 and 2 more)"
    )
    assert result.errors[-1].message.endswith(
        "(also on lines 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 2 more)"
    )


def test_a_leap_second_is_a_row_error_naming_the_time() -> None:
    data = b"date,campaign,spend,clicks,conversions\n2026-06-30 23:59:60,Brand,1,1,0\n"
    result = read_performance(data, today=TODAY)
    assert result.frame.empty
    assert [(e.line, e.column) for e in result.errors] == [(2, "date")]
    assert "time of day that does not exist" in result.errors[0].message
