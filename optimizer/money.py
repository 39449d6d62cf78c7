"""Exact money: integer micros, ISO 4217 currencies and their minor units, rounding down.

The currency table is ISO 4217 data (active codes and their minor-unit exponents), not logic.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from optimizer.errors import InvalidInputError
from optimizer.schema import MICROS

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "decimal_to_micros",
    "floor_to_minor_unit",
    "format_money",
    "micros_to_decimal",
    "minor_unit_micros",
    "validate_currency",
]


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_THREE = _codes("BHD IQD JOD KWD LYD OMR TND")
_ZERO = _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF")
_TWO = _codes(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR "
    "KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
    "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
)
CURRENCY_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO, 2),
    **dict.fromkeys(_ZERO, 0),
    **dict.fromkeys(_THREE, 3),
}


def validate_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code or raise InvalidInputError naming the bad value."""
    normalised = code.strip().upper()
    if normalised not in CURRENCY_MINOR_UNITS:
        raise InvalidInputError(
            f"'{code}' is not an ISO 4217 currency code we know (e.g. EUR, USD, GBP, JPY)"
        )
    return normalised


def minor_unit_micros(currency: str) -> int:
    """Micros in one minor unit: 10,000 for a cent, 1,000,000 for a yen, 1,000 for a fils."""
    exponent: int = CURRENCY_MINOR_UNITS[validate_currency(currency)]
    return MICROS // int(10**exponent)


def floor_to_minor_unit(micros: int, currency: str) -> int:
    """Round an amount in micros down to the currency's minor unit (never up: caps are hard)."""
    unit = minor_unit_micros(currency)
    return (micros // unit) * unit


def decimal_to_micros(amount: str | Decimal, *, field: str = "amount") -> int:
    """Parse a decimal string exactly into micros; over 6 decimals is an error, not a rounding."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidInputError(f"{field} '{amount}' is not a decimal number") from None
    if not value.is_finite():
        raise InvalidInputError(f"{field} '{amount}' is not a finite number")
    micros = value * MICROS
    if micros != micros.to_integral_value():
        raise InvalidInputError(f"{field} '{amount}' has more than 6 decimal places")
    return int(micros)


def micros_to_decimal(micros: int, currency: str | None = None) -> Decimal:
    """Exact Decimal from micros, quantised to the currency's minor unit when one is given."""
    value = Decimal(micros) / MICROS
    if currency is None:
        return value
    places = CURRENCY_MINOR_UNITS[validate_currency(currency)]
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def format_money(micros: int, currency: str) -> str:
    """'7,200.00 EUR' style, with the currency's own number of decimals."""
    value = micros_to_decimal(micros, currency)
    places = CURRENCY_MINOR_UNITS[validate_currency(currency)]
    return f"{value:,.{places}f} {currency.upper()}"
