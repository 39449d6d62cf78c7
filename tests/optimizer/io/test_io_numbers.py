"""Localised number cells -> micros / counts, with a status for every cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.io.numbers import NumberStatus, detect_decimal_comma, parse_counts, parse_micros


def _cells(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=str)


@pytest.mark.parametrize(
    ("cell", "micros"),
    [
        ("12.5", 12_500_000),
        (" 7 ", 7_000_000),
        ("1,234,567.891", 1_234_567_891_000),
        ("1,23,456.00", 123_456_000_000),
        ("€12.00", 12_000_000),
        ("12.00 EUR", 12_000_000),
        ("1 234.5", 1_234_500_000),
        ("۱۲٬۳۴۵٫۶۷", 12_345_670_000),  # noqa: RUF001
        ("٠٫٥", 500_000),  # noqa: RUF001
        ("\u200f۵۰\u200e", 50_000_000),  # noqa: RUF001
        ("0.000001", 1),
        ("98765432101.234567", 98_765_432_101_234_567),
    ],
    ids=[
        "plain",
        "padded",
        "thousands",
        "indian-grouping",
        "euro-sign",
        "currency-code",
        "space-thousands",
        "persian",
        "arabic-indic",
        "bidi-marks",
        "one-micro",
        "beyond-float-precision",
    ],
)
def test_parse_micros_point_mode(cell, micros):
    parsed = parse_micros(_cells(cell), decimal_comma=False)

    assert parsed.status.tolist() == [NumberStatus.OK]
    assert parsed.values.tolist() == [micros]


@pytest.mark.parametrize(
    ("cell", "micros"),
    [("1.234,56", 1_234_560_000), ("0,5", 500_000), ("12", 12_000_000), ("1 234,5", 1_234_500_000)],
    ids=["thousands-point", "fraction", "integer", "space-thousands"],
)
def test_parse_micros_comma_mode(cell, micros):
    parsed = parse_micros(_cells(cell), decimal_comma=True)

    assert parsed.values.tolist() == [micros]


@pytest.mark.parametrize(
    ("cell", "decimal_comma", "status"),
    [
        ("", False, NumberStatus.EMPTY),
        ("--", False, NumberStatus.EMPTY),
        ("abc", False, NumberStatus.NOT_A_NUMBER),
        ("12,5", False, NumberStatus.NOT_A_NUMBER),
        ("1.5", True, NumberStatus.NOT_A_NUMBER),
        ("inf", False, NumberStatus.NOT_FINITE),
        ("-Infinity", False, NumberStatus.NOT_FINITE),
        ("nan", False, NumberStatus.NOT_FINITE),
        ("1e400", False, NumberStatus.NOT_FINITE),
        ("1e308", False, NumberStatus.TOO_LARGE),
        ("9223372036854.775808", False, NumberStatus.TOO_LARGE),
        ("-0.01", False, NumberStatus.NEGATIVE),
        ("\u22123", False, NumberStatus.NEGATIVE),
    ],
    ids=[
        "empty",
        "google-placeholder",
        "text",
        "comma-not-in-thousands-position",
        "point-not-in-thousands-position",
        "inf",
        "minus-infinity",
        "nan",
        "overflow-to-inf",
        "overflowing-micros",
        "just-past-int64",
        "negative",
        "unicode-minus",
    ],
)
def test_parse_micros_statuses(cell, decimal_comma, status):
    parsed = parse_micros(_cells("1", cell), decimal_comma=decimal_comma)

    assert parsed.status.tolist() == [NumberStatus.OK, status]
    assert parsed.values.tolist() == [1_000_000, 0]


def test_parse_micros_is_exact_for_random_six_decimal_amounts():
    rng = np.random.default_rng(3)
    micros = rng.integers(-(10**15), 10**15, size=2000)
    text = [f"{'-' if m < 0 else ''}{abs(m) // 10**6}.{abs(m) % 10**6:06d}" for m in micros]

    parsed = parse_micros(_cells(*text), decimal_comma=False)

    ok = micros >= 0
    assert parsed.values[ok].tolist() == micros[ok].tolist()
    assert (parsed.status[~ok] == NumberStatus.NEGATIVE).all()


@pytest.mark.parametrize(
    ("cell", "value", "status"),
    [
        ("1,200", 1200, NumberStatus.OK),
        ("۱۲۰۰", 1200, NumberStatus.OK),
        ("3.0", 3, NumberStatus.OK),
        ("2.5", 0, NumberStatus.NOT_WHOLE),
        ("1e30", 0, NumberStatus.TOO_LARGE),
        ("-1", 0, NumberStatus.NEGATIVE),
    ],
    ids=["thousands", "persian", "whole-float", "fraction", "too-large", "negative"],
)
def test_parse_counts(cell, value, status):
    parsed = parse_counts(_cells(cell), decimal_comma=False)

    assert (parsed.values.tolist(), parsed.status.tolist()) == ([value], [status])


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["12,50", "3"], True),
        (["1.234,5"], True),
        (["0,125"], True),
        (["12,5", "3.75"], False),
        (["1,234"], False),
        (["1.234"], False),
        (["1,234.50"], False),
        (["1,23,456"], False),
        (["12.50 €", "7"], False),
        (["12,50 €", "7"], True),
    ],
    ids=[
        "comma-cents",
        "point-thousands-comma-decimal",
        "leading-zero-comma",
        "mixed-evidence",
        "ambiguous-comma",
        "ambiguous-point",
        "point-decimal",
        "indian-grouping",
        "point-with-symbol",
        "comma-with-symbol",
    ],
)
def test_detect_decimal_comma(cells, expected):
    assert detect_decimal_comma([_cells(*cells)]) is expected
