"""Localised number cells -> exact integer micros or whole counts, vectorised over a column.

Clean cells ("12.5", "300") go through pandas' C number parser in one call; only the cells it
rejects (thousands separators, currency symbols, Persian/Arabic-Indic digits, decimal commas, "--")
take the slower string-cleaning path. Every cell gets a `NumberStatus` so the validator can explain
it.

One row is one entity's day, so any figure above `MAX_FIGURE` (100 billion) is TOO_LARGE: that is
more than any keyword spends in a day even in the weakest currency the ad platforms bill in (about
4 million USD in Vietnamese dong), more clicks or impressions than there are people online, and it
keeps one row's micros (at most 1e17) 90 times below the int64 limit, so totals stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.numerals import (
    COMMA_EVIDENCE,
    COMMA_SHAPE,
    CURRENCY_CODE,
    EMPTY_MARKERS,
    NON_FINITE,
    POINT_EVIDENCE,
    POINT_SHAPE,
    cleaning_table,
    separators,
)
from optimizer.schema import MICROS

__all__ = [
    "MAX_FIGURE",
    "NumberColumn",
    "NumberStatus",
    "detect_decimal_comma",
    "parse_counts",
    "parse_micros",
]


class NumberStatus(IntEnum):
    """Outcome for one cell; anything but OK and EMPTY is a problem with the value itself."""

    OK = 0
    EMPTY = 1
    NOT_A_NUMBER = 2
    NOT_FINITE = 3
    TOO_LARGE = 4
    NEGATIVE = 5
    NOT_WHOLE = 6


@dataclass(frozen=True)
class NumberColumn:
    """Parsed values (0 where the cell is empty or bad) and one status per cell."""

    values: npt.NDArray[np.int64]
    status: npt.NDArray[np.int8]


MAX_FIGURE = 100_000_000_000

_INT64_LIMIT = 2.0**63
# Below this magnitude rint(float * 1e6) is provably the exact micros of a <= 6-decimal input.
_FLOAT_EXACT_LIMIT = 1e8
_FAST_PATH_SAMPLE = 64


def detect_decimal_comma(columns: Iterable[pd.Series], *, default: bool = False) -> bool:
    """True when some cell can only be read with a decimal comma and none only with a point;
    `default` when no cell settles it either way."""
    comma = point = False
    for column in columns:
        if not comma and column.str.contains(",", regex=False).any():
            comma = bool(column.str.contains(COMMA_EVIDENCE).any())
        if not point and column.str.contains(".", regex=False).any():
            point = bool(column.str.contains(POINT_EVIDENCE).any())
    if comma or point:
        return comma and not point
    return default


def _clean(cells: pd.Series, decimal_comma: bool) -> tuple[pd.Series, npt.NDArray[np.int8]]:
    """Canonical ASCII number text for cells the fast parser rejected, and their status so far.

    Thousands separators are checked to sit in thousands positions before they are dropped, so
    '12,5' in a decimal-point file is reported rather than read as 125.
    """
    shape = COMMA_SHAPE if decimal_comma else POINT_SHAPE
    text = cells.str.translate(cleaning_table())
    empty = text.isin(EMPTY_MARKERS).to_numpy(dtype=bool)
    odd = ~(text.str.fullmatch(shape).to_numpy(dtype=bool) | empty)
    status = np.zeros(len(text), dtype=np.int8)
    if odd.any():
        retried = text[odd].str.replace(CURRENCY_CODE, "", regex=True)
        text = text.copy()
        text[odd] = retried
        retried_empty = retried.isin(EMPTY_MARKERS).to_numpy(dtype=bool)
        fits = retried.str.fullmatch(shape).to_numpy(dtype=bool)
        non_finite = retried.str.fullmatch(NON_FINITE).to_numpy(dtype=bool)
        status[odd] = np.select(
            [retried_empty, non_finite, ~fits],
            [NumberStatus.EMPTY, NumberStatus.NOT_FINITE, NumberStatus.NOT_A_NUMBER],
            NumberStatus.OK,
        )
    status[empty] = NumberStatus.EMPTY
    return text.str.translate(separators(decimal_comma)), status


def _fast_path_pays(raw: pd.Series, decimal_comma: bool) -> bool:
    """Whether the C parser will accept most cells (a failed C parse costs more than cleaning)."""
    if decimal_comma:
        return False
    sample = pd.to_numeric(raw.iloc[:_FAST_PATH_SAMPLE], errors="coerce")
    return bool(sample.notna().mean() > 0.5) if len(sample) else False


def _parse_floats(
    raw: pd.Series, decimal_comma: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], pd.Series]:
    """Float values, statuses, and every cell's canonical text (for the exact big-number path)."""
    if _fast_path_pays(raw, decimal_comma):
        values = pd.to_numeric(raw, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan, copy=True
        )
    else:
        values = np.full(len(raw), np.nan)
    retry = np.isnan(values)
    status = np.zeros(len(raw), dtype=np.int8)
    text = raw
    if retry.any():
        cleaned, retry_status = _clean(raw[retry], decimal_comma)
        retry_values = pd.to_numeric(cleaned, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan, copy=True
        )
        unparsed = np.isnan(retry_values) & (retry_status == NumberStatus.OK)
        retry_status[unparsed] = NumberStatus.NOT_A_NUMBER
        retry_values[retry_status != NumberStatus.OK] = 0.0
        values[retry] = retry_values
        status[retry] = retry_status
        text = raw.copy()
        text[retry] = cleaned
    infinite = np.isinf(values)
    status[infinite] = NumberStatus.NOT_FINITE
    values[infinite] = 0.0
    status[(values < 0) & (status == NumberStatus.OK)] = NumberStatus.NEGATIVE
    status[(values > MAX_FIGURE) & (status == NumberStatus.OK)] = NumberStatus.TOO_LARGE
    return values, status, text


def _exact_micros(text: str) -> int | None:
    try:
        micros = Decimal(text.strip()) * MICROS
    except InvalidOperation:
        return None
    return int(micros.to_integral_value()) if micros.is_finite() else None


def parse_micros(raw: pd.Series, *, decimal_comma: bool) -> NumberColumn:
    """Amounts (money, conversions) as integer micros: exact for inputs with at most 6 decimals."""
    values, status, text = _parse_floats(raw, decimal_comma)
    micros = np.zeros(len(values), dtype=np.int64)
    small = np.abs(values) < _FLOAT_EXACT_LIMIT
    micros[small] = np.rint(values[small] * MICROS).astype(np.int64)
    for index in np.flatnonzero(~small & (status == NumberStatus.OK)):
        exact = _exact_micros(str(text.iat[int(index)]))
        if exact is None or abs(exact) >= _INT64_LIMIT:
            status[index] = NumberStatus.TOO_LARGE
        else:
            micros[index] = exact
    micros[status != NumberStatus.OK] = 0
    return NumberColumn(values=micros, status=status)


def parse_counts(raw: pd.Series, *, decimal_comma: bool) -> NumberColumn:
    """Whole counts (clicks, impressions); a fractional count is NOT_WHOLE rather than rounded."""
    values, status, _ = _parse_floats(raw, decimal_comma)
    ok = status == NumberStatus.OK
    status[ok & (np.abs(values) >= _INT64_LIMIT)] = NumberStatus.TOO_LARGE
    status[(status == NumberStatus.OK) & (values != np.floor(values))] = NumberStatus.NOT_WHOLE
    values[status != NumberStatus.OK] = 0.0
    return NumberColumn(values=values.astype(np.int64), status=status)
