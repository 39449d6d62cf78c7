"""Amounts as people type them: one grammar, exact micros, never a silent rescaling."""

from __future__ import annotations

import pytest

from optimizer.errors import InvalidInputError
from optimizer.locales import decimal_comma_for, validate_locale
from optimizer.money import (
    MAX_AMOUNT_MICROS,
    currency_places,
    format_money,
    micros_to_decimal,
    parse_amount,
    parse_share,
    validate_currency,
)

READS = [
    ("5000", None, 5_000_000_000),
    ("5,000.00", None, 5_000_000_000),
    ("1.234,50", None, 1_234_500_000),
    ("1.234,50", True, 1_234_500_000),
    ("5.000", True, 5_000_000_000),
    ("5.000", False, 5_000_000),
    ("1,234", True, 1_234_000),
    ("1,234", False, 1_234_000_000),
    ("12.5", None, 12_500_000),
    ("0,5", None, 500_000),
    ("1.234.567", None, 1_234_567_000_000),
    ("1,00,000", None, 100_000_000_000),
    ("\u06f1\u06f2\u066c\u06f3\u06f4\u06f5\u066b\u06f6\u06f7", None, 12_345_670_000),
    ("\u0665\u0660\u0660\u0660", None, 5_000_000_000),
    ("EUR 5000", None, 5_000_000_000),
    ("5 000,50 €", None, 5_000_500_000),
    ("1e3", None, 1_000_000_000),
    ("-0", None, 0),
    ("  30  ", None, 30_000_000),
]


@pytest.mark.parametrize(
    ("text", "decimal_comma", "micros"),
    READS,
    ids=[f"{text.strip()}|{comma}" for text, comma, _ in READS],
)
def test_amounts_read_as_written(text: str, decimal_comma: bool | None, micros: int) -> None:
    assert parse_amount(text, field="budget", decimal_comma=decimal_comma) == micros


@pytest.mark.parametrize(
    ("text", "point", "comma"),
    [("5.000", "5", "5,000"), ("1,234", "1,234", "1.234"), ("100.000", "100", "100,000")],
    ids=["five-thousand", "one-thousand-234", "hundred-thousand"],
)
def test_text_that_reads_two_ways_is_refused_with_both_readings(
    text: str, point: str, comma: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_amount(text, field="--budget")
    message = caught.value.message
    assert f"--budget '{text}' reads two ways: {point} (with a decimal point) or {comma}" in message
    assert "--decimal-comma" in message and "locale" in message


REFUSED = [
    ("", "is empty"),
    ("five", "is not an amount"),
    ("1_000", "is not an amount"),
    ("1e400", "largest amount"),
    ("1e30", "largest amount"),
    ("1000000000001", "largest amount"),
    ("1e-9", "more than 6 decimal places"),
    ("-3", "must not be negative"),
    ("nan", "is not an amount"),
    ("inf", "is not an amount"),
    ("12,5.3", "is not an amount"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_bad_amounts_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_amount(text, field="budget")


def test_the_largest_amount_is_accepted_and_fits_int64() -> None:
    assert parse_amount("1000000000000", field="cap") == MAX_AMOUNT_MICROS < 2**63 - 1


@pytest.mark.parametrize(
    ("text", "decimal_comma", "share"),
    [("30%", None, 0.3), ("12,5 %", None, 0.125), ("12.5%", None, 0.125), ("100%", None, 1.0)],
    ids=["whole", "decimal-comma", "decimal-point", "all"],
)
def test_shares(text: str, decimal_comma: bool | None, share: float) -> None:
    assert parse_share(text, field="limit", decimal_comma=decimal_comma) == share


@pytest.mark.parametrize(
    ("locale", "comma"),
    [("de_DE", True), ("de-DE", True), ("fr", True), ("en_US", False), ("de_CH", False),
     ("fa_IR", None), ("ar_EG", None), (None, None)],
    ids=["de", "de-dash", "fr", "en", "de-ch", "fa", "ar", "none"],
)  # fmt: skip
def test_a_locale_says_which_mark_is_decimal(locale: str | None, comma: bool | None) -> None:
    assert decimal_comma_for(locale) is comma


def test_unknown_locales_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a locale"):
        validate_locale("xx_YY_ZZ_1")


@pytest.mark.parametrize(
    ("code", "places"),
    [("EUR", 2), ("jpy", 0), ("KWD", 3), ("BGN", 2), ("XCG", 2)],
    ids=["eur", "jpy", "kwd", "bgn-historic", "xcg-new"],
)
def test_currency_minor_units_come_from_cldr(code: str, places: int) -> None:
    assert currency_places(code) == places


@pytest.mark.parametrize("code", ["XXX", "XAU", "XDR", "EURO", ""], ids=str)
def test_codes_that_are_no_tender_are_refused(code: str) -> None:
    with pytest.raises(InvalidInputError, match="ISO 4217"):
        validate_currency(code)


def test_money_is_shown_rounded_down_to_the_minor_unit() -> None:
    assert str(micros_to_decimal(237_145_700, "EUR")) == "237.14"
    assert format_money(237_149_999, "EUR") == "237.14 EUR"
    assert format_money(1_999_999_999, "JPY") == "1,999 JPY"
    assert format_money(1_234_567_890, "KWD") == "1,234.567 KWD"
