"""One chunk of text cells -> parsed stored-shape columns plus the row issues found in it.

Cells arrive as strings in columns named `c0`, `c1`, ... (file order) plus one spare column that is
only filled when a row has more cells than the header. Everything here is vectorised; Python loops
run only over distinct values or over rows that have a problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import RowIssue
from optimizer.io.dates import DateColumn, DateStatus, parse_dates
from optimizer.io.formats import Layout
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
from optimizer.schema import NAME_COLUMNS

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
    """Whether this chunk's number cells can only be read with decimal commas."""
    return detect_decimal_comma(_number_cells(chunk, layout))


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
    is_total = labels.apply(lambda column: column.str.casefold().str.startswith("total"))
    date_is_label = date.isin(_EMPTY_CELLS) | date.str.startswith("total")
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
        parse = parse_counts if field in _COUNT_FIELDS else parse_micros
        parsed[field] = parse(_cells(chunk, layout, field), decimal_comma=decimal_comma)
    return parsed


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
) -> Iterator[Checked]:
    yield check_row_width(
        chunk[f"c{len(layout.headers)}"],
        lines,
        header_cells=len(layout.headers),
        delimiter=DELIMITER_NAMES.get(layout.delimiter, repr(layout.delimiter)),
    )
    yield check_dates(
        dates, lines, _cells(chunk, layout, "date"), column=layout.header("date"), today=today
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
    chunk: pd.DataFrame, layout: Layout, *, today: dt.date, decimal_comma: bool
) -> ParsedChunk:
    """Drop non-data lines, parse every field, and run the per-row rules (not duplicates)."""
    lines = layout.header_line + 1 + chunk.index.to_numpy(dtype=np.int64)
    dates = parse_dates(_cells(chunk, layout, "date"), today)
    dropped = _non_data_rows(chunk, layout, dates.status)
    if dropped.any():
        kept = ~dropped
        chunk, lines = chunk.loc[kept], lines[kept]
        dates = DateColumn(values=dates.values[kept], status=dates.status[kept])
    names = _names(chunk, layout)
    numbers = _numbers(chunk, layout, decimal_comma)
    bad = np.zeros(len(chunk), dtype=bool)
    errors: list[RowIssue] = []
    for checked in _checks(chunk, layout, lines, dates, names, numbers, today):
        errors.extend(checked.issues)
        bad |= checked.rows
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
    )
