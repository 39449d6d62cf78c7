"""One chunk of text cells -> parsed stored-shape columns plus the row issues found in it.

Cells arrive as strings in columns named `c0`, `c1`, ... (file order) plus one spare column that is
only filled when a row has more cells than the header. Everything here is vectorised; Python loops
run only over distinct values or over rows that have a problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from babel.numbers import get_decimal_symbol

from optimizer.errors import RowIssue
from optimizer.io.dates import (
    DateColumn,
    DateEvidence,
    DateOrder,
    DateStatus,
    date_evidence,
    parse_dates,
)
from optimizer.io.formats import ID_FIELDS, TOTAL_WORDS, Layout
from optimizer.io.names import (
    empty_names,
    normalise_match_types,
    normalise_names,
    split_keyword_notation,
)
from optimizer.io.numbers import (
    NumberColumn,
    NumberStatus,
    detect_decimal_comma,
    parse_counts,
    parse_micros,
)
from optimizer.io.validate import (
    Checked,
    check_campaign,
    check_conversions_vs_clicks,
    check_dates,
    check_names,
    check_number,
    check_row_width,
    missing_campaign,
)
from optimizer.schema import MICROS, NAME_COLUMNS

__all__ = ["DELIMITER_NAMES", "ParsedChunk", "cell_columns", "chunk_decimal_comma", "parse_chunk"]

DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}
_STORED_NUMBERS = {
    "spend": "spend_micros",
    "clicks": "clicks",
    "impressions": "impressions",
    "conversions": "conversions_micros",
    "conversion_value": "value_micros",
}
_COUNT_FIELDS = ("clicks", "impressions")
_REQUIRED_NUMBERS = ("spend", "clicks", "conversions")
_LABELS = {"conversion_value": "conversion value"}
_EMPTY_CELLS = ("", "--")


@dataclass(frozen=True)
class ParsedChunk:
    """Parsed columns for every data row of a chunk (bad rows included, flagged) and its issues."""

    rows_read: int
    dates: npt.NDArray[np.datetime64]
    names: dict[str, pd.Categorical]
    numbers: dict[str, npt.NDArray[np.int64]]
    lines: npt.NDArray[np.int64]
    bad: npt.NDArray[np.bool_]
    key_ok: npt.NDArray[np.bool_]
    errors: list[RowIssue]
    warnings: list[RowIssue]
    currencies: frozenset[str]
    labels: dict[str, pd.Categorical]
    """Identity and account cells: platform, the platform IDs, the account ('' when absent)."""
    lost_is_budget: npt.NDArray[np.float64]
    evidence: DateEvidence
    pending: npt.NDArray[np.intp]
    """Rows whose date reads two ways, with their cells, until the file's order is known."""
    pending_cells: pd.Series


def cell_columns(layout: Layout) -> list[str]:
    """Names for the file's columns plus the spare one that catches rows with too many cells."""
    return [f"c{index}" for index in range(len(layout.headers) + 1)]


def _cells(chunk: pd.DataFrame, layout: Layout, field: str) -> pd.Series:
    return chunk[f"c{layout.columns[field]}"]


def _number_cells(chunk: pd.DataFrame, layout: Layout) -> Iterator[pd.Series]:
    for field in _STORED_NUMBERS:
        if field in layout.columns:
            yield _cells(chunk, layout, field)


def chunk_decimal_comma(chunk: pd.DataFrame, layout: Layout) -> bool:
    """Whether this chunk's number cells are written with decimal commas: what the cells prove,
    else what the export's UI language writes (German, French, ... exports: a comma)."""
    return detect_decimal_comma(
        _number_cells(chunk, layout), default=_language_decimal_comma(layout)
    )


def _language_decimal_comma(layout: Layout) -> bool:
    if layout.format in ("canonical", "google_ads_api"):
        return False
    return bool(get_decimal_symbol(layout.language, numbering_system="latn") == ",")


def _non_data_rows(
    chunk: pd.DataFrame, layout: Layout, date_status: npt.NDArray[np.int8]
) -> npt.NDArray[np.bool_]:
    """Blank lines, 'Total: ...' rows and copyright footers, which are dropped without a word."""
    rows = np.zeros(len(chunk), dtype=bool)
    candidates = np.flatnonzero(
        (date_status == DateStatus.EMPTY) | (date_status == DateStatus.NOT_A_DATE)
    )
    if len(candidates) == 0:
        return rows
    cells = chunk.iloc[candidates].apply(lambda column: column.str.strip())
    date = _cells(cells, layout, "date").str.casefold()
    labels = cells[
        ["c0", *(f"c{layout.columns[name]}" for name in NAME_COLUMNS if name in layout.columns)]
    ]
    is_total = labels.apply(lambda column: column.str.casefold().str.startswith(TOTAL_WORDS))
    date_is_label = date.isin(_EMPTY_CELLS) | date.str.startswith(TOTAL_WORDS)
    first = cells["c0"].str.casefold()
    copyright_line = first.str.startswith("©") | first.str.contains(
        "all rights reserved", regex=False
    )
    footer = copyright_line & (cells.drop(columns="c0") == "").all(axis=1)
    blank = (cells == "").all(axis=1)
    dropped = blank | footer | (is_total.any(axis=1) & date_is_label)
    rows[candidates] = dropped.to_numpy(dtype=bool)
    return rows


def _names(chunk: pd.DataFrame, layout: Layout) -> dict[str, pd.Categorical]:
    names = {
        name: normalise_names(_cells(chunk, layout, name))
        if name in layout.columns
        else empty_names(len(chunk))
        for name in NAME_COLUMNS
    }
    names["match_type"] = normalise_match_types(names["match_type"])
    names["keyword"], names["match_type"] = split_keyword_notation(
        names["keyword"], names["match_type"]
    )
    return names


def _numbers(chunk: pd.DataFrame, layout: Layout, decimal_comma: bool) -> dict[str, NumberColumn]:
    parsed: dict[str, NumberColumn] = {}
    for field in _STORED_NUMBERS:
        if field not in layout.columns:
            parsed[field] = NumberColumn(
                values=np.zeros(len(chunk), dtype=np.int64),
                status=np.full(len(chunk), NumberStatus.EMPTY, dtype=np.int8),
            )
            continue
        counted = field in _COUNT_FIELDS or (field == "spend" and layout.spend_in_micros)
        parse = parse_counts if counted else parse_micros
        parsed[field] = parse(_cells(chunk, layout, field), decimal_comma=decimal_comma)
    return parsed


_PLATFORM_WORDS = {
    "google_ads": "google_ads",
    "googleads": "google_ads",
    "google": "google_ads",
    "adwords": "google_ads",
    "microsoft_ads": "microsoft_ads",
    "microsoftads": "microsoft_ads",
    "microsoft_advertising": "microsoft_ads",
    "microsoftadvertising": "microsoft_ads",
    "microsoft": "microsoft_ads",
    "bing": "microsoft_ads",
    "bing_ads": "microsoft_ads",
}


def _clean_id(text: str) -> str:
    """'123-456-7890' -> '1234567890'; Google's '--' and a spreadsheet's '123.0' tidied."""
    cleaned = text.strip()
    if cleaned in _EMPTY_CELLS:
        return ""
    cleaned = cleaned.removesuffix(".0") if cleaned.replace(".", "", 1).isdigit() else cleaned
    return cleaned.replace("-", "") if cleaned.replace("-", "").isdigit() else cleaned


def _clean_platform(text: str) -> str:
    key = text.strip().casefold().replace(" ", "_")
    return _PLATFORM_WORDS.get(key, "other") if key else "other"


def _recoded(raw: pd.Series, clean: Callable[[str], str]) -> pd.Categorical:
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    cleaned = [clean(str(value)) for value in uniques]
    merged_codes, merged = pd.factorize(pd.Index(cleaned, dtype=object))
    return pd.Categorical.from_codes(
        np.asarray(merged_codes)[codes], categories=pd.Index(merged, dtype=object)
    )


def _constant(value: str, length: int) -> pd.Categorical:
    return pd.Categorical.from_codes(
        np.zeros(length, dtype=np.int8), categories=pd.Index([value], dtype=object)
    )


def _labels(chunk: pd.DataFrame, layout: Layout) -> dict[str, pd.Categorical]:
    labels: dict[str, pd.Categorical] = {}
    if "platform" in layout.columns:
        labels["platform"] = _recoded(_cells(chunk, layout, "platform"), _clean_platform)
    else:
        labels["platform"] = _constant(layout.platform, len(chunk))
    for field in ID_FIELDS:
        labels[field] = (
            _recoded(_cells(chunk, layout, field), _clean_id)
            if field in layout.columns
            else _constant("", len(chunk))
        )
    labels["account"] = (
        normalise_names(_cells(chunk, layout, "account"))
        if "account" in layout.columns
        else _constant("", len(chunk))
    )
    return labels


def _lost_is_budget(
    chunk: pd.DataFrame, layout: Layout, decimal_comma: bool
) -> npt.NDArray[np.float64]:
    """The share of impressions lost to the budget, 0..1 (NaN where not reported).

    Exports write "12.34%", "< 10%" and "> 90%" (read as the middle of that range), Microsoft a
    percentage without the sign, the Google Ads API a fraction."""
    if "lost_is_budget" not in layout.columns:
        return np.full(len(chunk), np.nan)
    raw = _cells(chunk, layout, "lost_is_budget").str.strip()
    below = raw.str.startswith("<").to_numpy(dtype=bool)
    above = raw.str.startswith(">").to_numpy(dtype=bool)
    percent = raw.str.endswith("%").to_numpy(dtype=bool) | (layout.format == "microsoft_ads")
    number = raw.str.lstrip("<>").str.rstrip("%").str.strip()
    parsed = parse_micros(number, decimal_comma=decimal_comma)
    value = parsed.values / MICROS
    value = np.where(percent, value / 100, value)
    value = np.where(below, value / 2, np.where(above, (1 + value) / 2, value))
    ok = (parsed.status == NumberStatus.OK) & (value >= 0) & (value <= 1)
    return np.where(ok, value, np.nan)


def _currencies(chunk: pd.DataFrame, layout: Layout) -> frozenset[str]:
    if "currency" not in layout.columns:
        return frozenset()
    codes = pd.unique(_cells(chunk, layout, "currency").str.strip().str.upper())
    return frozenset(str(code) for code in codes if code not in _EMPTY_CELLS)


def _checks(
    chunk: pd.DataFrame,
    layout: Layout,
    lines: npt.NDArray[np.int64],
    dates: DateColumn,
    names: dict[str, pd.Categorical],
    numbers: dict[str, NumberColumn],
    today: dt.date,
    order: DateOrder | None,
) -> Iterator[Checked]:
    yield check_row_width(
        chunk[f"c{len(layout.headers)}"],
        lines,
        header_cells=len(layout.headers),
        delimiter=DELIMITER_NAMES.get(layout.delimiter, repr(layout.delimiter)),
    )
    yield check_dates(
        dates,
        lines,
        _cells(chunk, layout, "date"),
        column=layout.header("date"),
        today=today,
        order=order,
    )
    yield check_campaign(
        names["campaign"],
        lines,
        _cells(chunk, layout, "campaign"),
        column=layout.header("campaign"),
    )
    for name in NAME_COLUMNS:
        if name in layout.columns:
            yield check_names(names[name], lines, name=name, column=layout.header(name))
    for field in _STORED_NUMBERS:
        if field in layout.columns:
            yield check_number(
                numbers[field],
                lines,
                _cells(chunk, layout, field),
                column=layout.header(field),
                label=_LABELS.get(field, field),
                required=field in _REQUIRED_NUMBERS,
            )


def parse_chunk(
    chunk: pd.DataFrame,
    layout: Layout,
    *,
    today: dt.date,
    decimal_comma: bool,
    date_order: DateOrder | None = None,
) -> ParsedChunk:
    """Drop non-data lines, parse every field, and run the per-row rules (not duplicates).

    Without `date_order`, dates that read two ways are left PENDING (with their cells) for the
    reader to settle once the whole file has shown its order."""
    lines = layout.header_line + 1 + chunk.index.to_numpy(dtype=np.int64)
    dates = parse_dates(_cells(chunk, layout, "date"), today, date_order)
    dropped = _non_data_rows(chunk, layout, dates.status)
    if dropped.any():
        kept = ~dropped
        chunk, lines = chunk.loc[kept], lines[kept]
        dates = DateColumn(values=dates.values[kept], status=dates.status[kept])
    names = _names(chunk, layout)
    numbers = _numbers(chunk, layout, decimal_comma)
    bad = np.zeros(len(chunk), dtype=bool)
    errors: list[RowIssue] = []
    for checked in _checks(chunk, layout, lines, dates, names, numbers, today, date_order):
        errors.extend(checked.issues)
        bad |= checked.rows
    pending = np.flatnonzero(dates.status == DateStatus.PENDING)
    warnings = check_conversions_vs_clicks(
        numbers["conversions"],
        numbers["clicks"],
        lines,
        _cells(chunk, layout, "conversions"),
        column=layout.header("conversions"),
    ).issues
    return ParsedChunk(
        rows_read=len(chunk),
        dates=dates.values,
        names=names,
        numbers={stored: numbers[field].values for field, stored in _STORED_NUMBERS.items()},
        lines=lines,
        bad=bad,
        key_ok=(dates.status == DateStatus.OK) & ~missing_campaign(names["campaign"]),
        errors=errors,
        warnings=warnings,
        currencies=_currencies(chunk, layout),
        labels=_labels(chunk, layout),
        lost_is_budget=_lost_is_budget(chunk, layout, decimal_comma),
        evidence=date_evidence(_cells(chunk, layout, "date"), lines),
        pending=pending,
        pending_cells=_cells(chunk, layout, "date").iloc[pending].reset_index(drop=True),
    )
