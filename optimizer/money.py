"""Exact money: integer micros, currencies and their minor units, amounts as people type them.

Currencies and their minor units come from CLDR through babel (a maintained table: BGN left it when
Bulgaria took the euro, XCG replaced ANG), not from a list kept here. Every money figure the
product shows goes through `micros_to_decimal` with a currency: rounded down to its minor unit, one
rule for CSV, JSON, the API and the dashboard, and never up (a shown budget or cap is never more
than the real one).
"""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from babel.core import get_global
from babel.numbers import get_currency_precision

from optimizer.errors import InvalidInputError
from optimizer.numerals import readings
from optimizer.schema import MICROS

__all__ = [
    "MAX_AMOUNT_MICROS",
    "currency_places",
    "decimal_to_micros",
    "floor_to_minor_unit",
    "format_money",
    "micros_to_decimal",
    "minor_unit_micros",
    "parse_amount",
    "parse_share",
    "validate_currency",
]

MAX_AMOUNT_MICROS = 10**18
"""The largest amount anyone may type: one trillion units. Caps, budgets and limits above it are
refused; it keeps micros (and sums of a few of them) inside a 64-bit integer on every store."""

_AMOUNT_EXAMPLES = "e.g. 5000, 5,000.00 or 5.000,00"
_SAY_WHICH = (
    'say which: --decimal-comma or --decimal-point on the command line, "decimal_comma": '
    "true or false in an API request, or set the account's locale"
)


@functools.cache
def _known_currencies() -> frozenset[str]:
    """Codes that are or were legal tender somewhere (CLDR): EUR and BGN, not XXX, XAU or XDR."""
    return frozenset(
        code
        for history in get_global("territory_currencies").values()
        for code, _start, _end, tender in history
        if tender
    )


def validate_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code or raise InvalidInputError naming the bad value."""
    normalised = code.strip().upper()
    if normalised not in _known_currencies():
        raise InvalidInputError(
            f"'{code}' is not an ISO 4217 currency code we know (e.g. EUR, USD, GBP, JPY)"
        )
    return normalised


def currency_places(currency: str) -> int:
    """Decimals of the currency's minor unit (CLDR): 2 for EUR, 0 for JPY, 3 for KWD."""
    return int(get_currency_precision(validate_currency(currency)))


def minor_unit_micros(currency: str) -> int:
    """Micros in one minor unit: 10,000 for a cent, 1,000,000 for a yen, 1,000 for a fils."""
    return MICROS // int(10 ** currency_places(currency))


def floor_to_minor_unit(micros: int, currency: str) -> int:
    """Round an amount in micros down to the currency's minor unit (never up: caps are hard)."""
    unit = minor_unit_micros(currency)
    return (micros // unit) * unit


def decimal_to_micros(amount: str | Decimal, *, field: str = "amount") -> int:
    """Parse a machine decimal ("1234.5", a Decimal) exactly into micros; more than 6 decimals is
    an error, not a rounding. Amounts a person types go through `parse_amount` instead."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidInputError(f"{field} '{amount}' is not a decimal number") from None
    return _to_micros(value, text=str(amount), field=field)


def _to_micros(value: Decimal, *, text: str, field: str) -> int:
    if not value.is_finite():
        raise InvalidInputError(f"{field} '{text}' is not a finite number")
    if value.is_signed() and value != 0:
        raise InvalidInputError(f"{field} must not be negative, got '{text}'")
    if value.adjusted() > 12:
        raise InvalidInputError(f"{field} '{text}' is more than the largest amount, 1e12")
    micros = value * MICROS
    if micros != micros.to_integral_value():
        raise InvalidInputError(f"{field} '{text}' has more than 6 decimal places")
    result = int(micros)
    if result > MAX_AMOUNT_MICROS:
        raise InvalidInputError(f"{field} '{text}' is more than the largest amount, 1e12")
    return result


def parse_amount(text: str, *, field: str, decimal_comma: bool | None = None) -> int:
    """An amount as a person types it -> exact micros, with the file readers' grammar.

    "5000", "5,000.00", "1.234,50", Persian digits and "EUR 5000" all read; `decimal_comma` (from a
    flag or the account's locale) says which of "." and "," is the decimal mark, and when it is not
    given, text that reads two ways ("5.000", "1,234") is refused with both readings, never scaled.
    """
    stripped = text.strip()
    found = readings(stripped, decimal_comma)
    if not found:
        if not stripped:
            raise InvalidInputError(f"{field} is empty; give an amount ({_AMOUNT_EXAMPLES})")
        raise InvalidInputError(f"{field} '{text}' is not an amount ({_AMOUNT_EXAMPLES})")
    values = set(found.values())
    if len(values) > 1:
        point, comma = _plain(found[False]), _plain(found[True])
        raise InvalidInputError(
            f"{field} '{text}' reads two ways: {point} (with a decimal point) or {comma} (with a "
            f"decimal comma); {_SAY_WHICH}"
        )
    return _to_micros(values.pop(), text=text, field=field)


def parse_share(text: str, *, field: str, decimal_comma: bool | None = None) -> float:
    """A percentage as typed ("30%", "12,5 %") -> a fraction (0.3, 0.125), read like amounts."""
    stripped = text.strip()
    if not stripped.endswith("%"):
        raise InvalidInputError(f"{field} '{text}' is not a percentage (e.g. 30%)")
    micros = parse_amount(stripped[:-1], field=field, decimal_comma=decimal_comma)
    share = micros / MICROS / 100
    if share > 1:
        raise InvalidInputError(f"{field} '{text}' is more than 100%")
    return share


def _plain(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def micros_to_decimal(micros: int, currency: str | None = None) -> Decimal:
    """Exact Decimal from micros, rounded down to the currency's minor unit when one is given."""
    value = Decimal(micros) / MICROS
    if currency is None:
        return value
    return value.quantize(Decimal(1).scaleb(-currency_places(currency)), rounding=ROUND_DOWN)


def format_money(micros: int, currency: str) -> str:
    """'7,200.00 EUR' style, with the currency's own number of decimals."""
    value = micros_to_decimal(micros, currency)
    return f"{value:,.{currency_places(currency)}f} {currency.upper()}"
