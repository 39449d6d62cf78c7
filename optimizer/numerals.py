"""The one grammar of numbers as people and localised exports write them.

Shared by the file readers (`optimizer.io.numbers`, vectorised over columns) and by the parser of
amounts a person types (`optimizer.money.parse_amount`), so "1.234,50" means the same in a Google
Ads export, on the command line and in an API request.

A number is ASCII or Persian / Arabic-Indic digits, with thousands separators in thousands
positions (Indian lakh groups too), one decimal mark and an optional exponent; spaces, bidi marks,
currency signs and ISO currency codes around it are dropped. Which of "." and "," is the decimal
mark is the caller's to say (`decimal_comma`), or, for a single text, every reading that fits is
returned so that text which reads two ways ("5.000", "1,234") can be refused rather than guessed.
The Arabic decimal separator (U+066B) is a decimal mark in either reading.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies

__all__ = [
    "COMMA_EVIDENCE",
    "COMMA_SHAPE",
    "CURRENCY_CODE",
    "DECIMAL_MARK",
    "EMPTY_MARKERS",
    "NON_FINITE",
    "POINT_EVIDENCE",
    "POINT_SHAPE",
    "cleaning_table",
    "normalise",
    "readings",
    "separators",
]

DECIMAL_MARK = "\x01"
"""Stands for U+066B (the Arabic decimal separator) after cleaning: a decimal mark either way."""

EMPTY_MARKERS: tuple[str, ...] = ("", "--")

COMMA_EVIDENCE = re.compile(r"(?:,\d{1,2}|,\d{4,}|\d\.\d{3}(?:\.\d{3})*,\d*|^[+-]?0,\d+)[^\d.,]*$")
"""A cell that can only be read with a decimal comma."""

POINT_EVIDENCE = re.compile(
    r"(?:\.\d{1,2}|\.\d{4,}|\d,\d{3}(?:,\d{3})*\.\d*|^[+-]?0\.\d+)[^\d.,]*$"
)
"""A cell that can only be read with a decimal point."""

NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)

_EXPONENT = r"(?:[eE][+-]?\d+)?"
POINT_SHAPE = re.compile(
    rf"[+-]?(?:\d+|\d{{1,3}}(?:,\d{{2,3}})*,\d{{3}})?(?:[.{DECIMAL_MARK}]\d*)?{_EXPONENT}"
)
COMMA_SHAPE = re.compile(
    rf"[+-]?(?:\d+|\d{{1,3}}(?:\.\d{{3}})+)?(?:[,{DECIMAL_MARK}]\d*)?{_EXPONENT}"
)
CURRENCY_CODE = re.compile(
    "^(?:{codes})|(?:{codes})$".format(codes="|".join(sorted(list_currencies())))
)
_DIGIT = re.compile(r"\d")


@functools.cache
def cleaning_table() -> dict[int, int | None]:
    """Persian/Arabic-Indic digits to ASCII; drop spaces, bidi marks, currency signs and U+066C."""
    table: dict[int, int | None] = {}
    for offset in range(10):
        table[0x06F0 + offset] = ord("0") + offset
        table[0x0660 + offset] = ord("0") + offset
    for char in " \t\u00a0\u2007\u2009\u202f'\u2019\u066c":
        table[ord(char)] = None
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category in ("Sc", "Cf"):
            table[code] = None
    table[0x066B] = ord(DECIMAL_MARK)
    table[0x2212] = ord("-")
    return table


_SEPARATORS = {
    False: {ord(","): None, ord(DECIMAL_MARK): ord(".")},
    True: {ord("."): None, ord(","): ord("."), ord(DECIMAL_MARK): ord(".")},
}


def separators(decimal_comma: bool) -> dict[int, int | None]:
    """The translation from a cleaned number in that reading to Python's decimal syntax."""
    return _SEPARATORS[decimal_comma]


def normalise(text: str) -> str:
    """The cleaned text of one number: ASCII digits, no spaces, marks, signs or currency code."""
    cleaned = text.strip().translate(cleaning_table())
    if POINT_SHAPE.fullmatch(cleaned) or COMMA_SHAPE.fullmatch(cleaned):
        return cleaned
    return CURRENCY_CODE.sub("", cleaned.upper()) if _DIGIT.search(cleaned) else cleaned


def readings(text: str, decimal_comma: bool | None = None) -> dict[bool, Decimal]:
    """Every value `text` can mean, keyed by `decimal_comma`: one key when it is told or clear.

    "5.000" gives {False: 5, True: 5000}; "1.234,50" gives {True: 1234.50}; "12" gives both keys
    with the same value; text that is no number gives {}.
    """
    cleaned = normalise(text)
    if cleaned in EMPTY_MARKERS:
        return {}
    options = (False, True) if decimal_comma is None else (decimal_comma,)
    found: dict[bool, Decimal] = {}
    for comma in options:
        shape = COMMA_SHAPE if comma else POINT_SHAPE
        if not shape.fullmatch(cleaned) or not _DIGIT.search(cleaned):
            continue
        try:
            found[comma] = Decimal(cleaned.translate(separators(comma)))
        except InvalidOperation:
            continue
    return found
