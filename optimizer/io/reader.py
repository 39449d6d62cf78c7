"""read_performance: any supported export -> stored-shape frame plus every row problem, by line.

The file is streamed in chunks through pandas' C parser with every cell as text; each chunk is
parsed and checked vectorised, and only its compact parsed columns are kept, so memory follows the
row count, not the file's text. Duplicates are found once all chunks are in, so they are caught
across chunk boundaries. Line numbers assume one record per physical line: a quoted cell that spans
several lines (not supported) shifts the numbers reported for the rows after it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from optimizer.errors import InvalidInputError, RowIssue, TooLargeError
from optimizer.io.dates import DateOrder
from optimizer.io.encoding import describe_decode_error, open_text
from optimizer.io.formats import (
    FORMATS,
    HEADER_SEARCH_LINES,
    Layout,
    build_layout,
    explain_missing_header,
    match_header,
)
from optimizer.io.reports import (
    KEY_COLUMNS,
    check_report_kind,
    collapse,
    needs_collapse,
    settle_dates,
)
from optimizer.io.rows import (
    DELIMITER_NAMES,
    ParsedChunk,
    cell_columns,
    chunk_decimal_comma,
    parse_chunk,
)
from optimizer.io.validate import check_duplicates
from optimizer.schema import IDENTITY_COLUMNS, NAME_COLUMNS, STORED_COLUMNS, ReadResult

__all__ = ["read_performance"]

_FIELD_MISMATCH = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
# Ten times a header of 1,000 columns of 100 characters; longer means the line ends were lost.
_MAX_HEADER_SEARCH_CHARS = 1 << 20
_NUMBER_COLUMNS = ("spend_micros", "clicks", "impressions", "conversions_micros", "value_micros")


@dataclass
class _Collected:
    layout: Layout
    decimal_comma: bool | None
    date_order: DateOrder | None
    today: dt.date
    max_rows: int | None = None
    chunks: list[ParsedChunk] = field(default_factory=list)
    rows: int = 0


def read_performance(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    format: str | None = None,
    decimal_comma: bool | None = None,
    date_order: DateOrder | None = None,
    default_date_order: DateOrder | None = None,
    sum_segments: bool = False,
    today: dt.date | None = None,
    chunk_rows: int = 200_000,
    max_rows: int | None = None,
) -> ReadResult:
    """Read a canonical CSV, Google Ads (UI or API) or Microsoft Advertising export into the
    stored shape.

    `format=None` detects the layout from the header and the title lines above it, in any UI
    language of `headers.toml`; `decimal_comma=None` detects decimal commas from the first chunk
    when the evidence is unambiguous, else follows the export's language. Dates that read two ways
    (03/11/2025) follow `date_order` when given, else the order the file proves (a day above 12
    anywhere), else `default_date_order` (the account's locale); with none of these the file is
    refused naming the first such cell. Segmented reports (device, network, hour, ...) are summed
    per entity and day with `sum_segments`, refused without it; a search terms report is summed
    per keyword. Dates after `today` (default: today in UTC) are errors. Rows with any error are
    left out of `frame`; every problem is in `errors` / `warnings` with the file's own line
    number and column name. A file with more than `max_rows` data rows is refused
    (`TooLargeError`) as soon as a chunk passes the limit, before the rest is read.
    """
    if format is not None and format not in FORMATS:
        raise InvalidInputError(f"unknown format '{format}'; use one of {', '.join(FORMATS)}")
    if chunk_rows < 1:
        raise InvalidInputError("chunk_rows must be at least 1")
    day = today if today is not None else dt.datetime.now(dt.UTC).date()
    with open_text(source) as (stream, encoding):
        try:
            layout = check_report_kind(_read_layout(stream, format), sum_segments=sum_segments)
            collected = _Collected(layout, decimal_comma, date_order, day, max_rows)
            _read_chunks(stream, collected, chunk_rows=chunk_rows)
        except UnicodeDecodeError:
            raise InvalidInputError(describe_decode_error(encoding)) from None
    settle_dates(collected.chunks, layout, date_order, default_date_order, today=day)
    return _result(collected)


def _read_layout(stream: TextIO, format: str | None) -> Layout:
    title_lines: list[str] = []
    for number in range(1, HEADER_SEARCH_LINES + 1):
        line = stream.readline(_MAX_HEADER_SEARCH_CHARS + 1)
        if not line:
            break
        if len(line) > _MAX_HEADER_SEARCH_CHARS:
            raise InvalidInputError(
                f"line {number} is longer than {_MAX_HEADER_SEARCH_CHARS:,} characters before any "
                "header was found; the file's line ends may have been lost"
            )
        header = match_header(line, format)
        if header is not None:
            return build_layout(header, header_line=number, title_lines=title_lines, format=format)
        title_lines.append(line)
    if not any(line.strip() for line in title_lines):
        raise InvalidInputError("the file is empty")
    if (instead := explain_missing_header(title_lines)) is not None:
        raise InvalidInputError(f"could not find a header row: {instead}")
    raise InvalidInputError(
        f"could not find a header row in the first {HEADER_SEARCH_LINES} lines: expected columns "
        "such as date, campaign, spend, clicks, conversions, or a Google Ads / Microsoft "
        "Advertising report export"
    )


def _parser_message(error: Exception, layout: Layout) -> str:
    if match := _OPEN_QUOTE.search(str(error)):
        line = layout.header_line + 1 + int(match[1])
        return f'line {line} opens a quoted cell (") that is never closed'
    delimiter = DELIMITER_NAMES.get(layout.delimiter, repr(layout.delimiter))
    if match := _FIELD_MISMATCH.search(str(error)):
        line = layout.header_line + int(match[2])
        return (
            f"line {line} has {match[3]} cells but the header on line {layout.header_line} has "
            f"{len(layout.headers)}; a name probably contains an unquoted {delimiter}"
        )
    return f"the file could not be read as {delimiter}-separated text: {error}"


def _read_chunks(stream: TextIO, collected: _Collected, *, chunk_rows: int) -> None:
    layout = collected.layout
    try:
        with warnings.catch_warnings():
            # A first row with too many cells only warns; check_row_width reports it per row.
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            _read_chunks_unguarded(stream, collected, chunk_rows=chunk_rows)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInputError(_parser_message(exc, layout)) from None


def _read_chunks_unguarded(stream: TextIO, collected: _Collected, *, chunk_rows: int) -> None:
    layout = collected.layout
    with pd.read_csv(
        stream,
        sep=layout.delimiter,
        header=None,
        names=cell_columns(layout),
        index_col=False,
        dtype=str,
        na_filter=False,
        skip_blank_lines=False,
        quotechar='"',
        engine="c",
        chunksize=chunk_rows,
    ) as reader:
        for chunk in reader:
            if collected.decimal_comma is None:
                collected.decimal_comma = chunk_decimal_comma(chunk, layout)
            parsed = parse_chunk(
                chunk,
                layout,
                today=collected.today,
                decimal_comma=collected.decimal_comma,
                date_order=collected.date_order,
            )
            collected.rows += parsed.rows_read
            if collected.max_rows is not None and collected.rows > collected.max_rows:
                raise TooLargeError(
                    f"the file has more than {collected.max_rows:,} data rows, the limit per "
                    "upload (PPCOPT_UPLOAD_MAX_ROWS); nothing was stored: split the export by "
                    "date range"
                )
            collected.chunks.append(parsed)


_LABEL_COLUMNS = (*IDENTITY_COLUMNS, "account")


def _empty_frame() -> pd.DataFrame:
    no_names = pd.Categorical([], categories=pd.Index([], dtype=object))
    return pd.DataFrame(
        {
            "date": np.array([], dtype="datetime64[ns]"),
            **{name: no_names for name in NAME_COLUMNS},
            **{name: np.array([], dtype=np.int64) for name in (*_NUMBER_COLUMNS, "line")},
            **{name: no_names for name in _LABEL_COLUMNS},
            "lost_is_budget": np.array([], dtype=np.float64),
        }
    )


def _frame_and_duplicates(
    chunks: list[ParsedChunk], layout: Layout
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Stitch the chunks together, flag same-entity-same-day rows, keep only error-free rows
    (summed per entity and day first where the report has several rows for one)."""
    if not chunks:
        return _empty_frame(), []
    full = pd.DataFrame(
        {
            "date": np.concatenate([chunk.dates for chunk in chunks]),
            **{
                name: union_categoricals([chunk.names[name] for chunk in chunks])
                for name in NAME_COLUMNS
            },
            **{
                name: np.concatenate([chunk.numbers[name] for chunk in chunks])
                for name in _NUMBER_COLUMNS
            },
            "line": np.concatenate([chunk.lines for chunk in chunks]),
            **{
                name: union_categoricals([chunk.labels[name] for chunk in chunks])
                for name in _LABEL_COLUMNS
            },
            "lost_is_budget": np.concatenate([chunk.lost_is_budget for chunk in chunks]),
        }
    )
    bad = np.concatenate([chunk.bad for chunk in chunks])
    if needs_collapse(layout):
        frame = collapse(full.loc[~bad].reset_index(drop=True))
        duplicate_issues: list[RowIssue] = []
    else:
        duplicates = check_duplicates(
            full.loc[:, list(KEY_COLUMNS)],
            full["line"].to_numpy(dtype=np.int64),
            np.concatenate([chunk.key_ok for chunk in chunks]),
        )
        frame = full.loc[~(bad | duplicates.rows)].reset_index(drop=True)
        duplicate_issues = duplicates.issues
    for name in (*NAME_COLUMNS, *_LABEL_COLUMNS):
        frame[name] = frame[name].astype("category").cat.remove_unused_categories()
    return frame, duplicate_issues


def _result(collected: _Collected) -> ReadResult:
    layout = collected.layout
    chunks = collected.chunks
    frame, duplicate_issues = _frame_and_duplicates(chunks, layout)
    position = {header: index for index, header in reversed(list(enumerate(layout.headers)))}

    def by_line(issue: RowIssue) -> tuple[int, int]:
        if issue.column is None:
            return issue.line, len(position)
        return issue.line, position.get(issue.column, len(position))

    errors = [issue for chunk in chunks for issue in chunk.errors] + duplicate_issues
    warnings = [issue for chunk in chunks for issue in chunk.warnings]
    return ReadResult(
        frame=frame.loc[:, list(STORED_COLUMNS)],
        format=layout.format,
        rows_read=sum(chunk.rows_read for chunk in chunks),
        errors=tuple(sorted(errors, key=by_line)),
        warnings=tuple(sorted(warnings, key=by_line)),
        currencies=frozenset(code for chunk in chunks for code in chunk.currencies),
    )
