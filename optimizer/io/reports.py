"""Report kinds beyond one row per entity and day: what each means, and how it becomes that shape.

- A **segmented** report (by device, network, hour, ...) has several rows per entity and day; they
  are summed per day on request (`sum_segments`), refused otherwise, so a file is never read as
  duplicates or as one segment.
- A **search terms** report has a row per search term; its match type is the search term's, not
  the keyword's, so it is dropped, and rows are summed per keyword that matched. Without the
  keyword column the rows cannot be tied to a keyword and the file is refused.
- A Microsoft Advertising report with only the **delivered** match type (how the query matched)
  is summed per keyword ID; without the keyword ID or the bid match type it is refused, since one
  keyword would otherwise become three.
- Dates that read two ways are settled for the whole file at once (`settle_dates`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.io.dates import (
    DateColumn,
    DateEvidence,
    DateOrder,
    DateStatus,
    parse_dates,
    readings,
    text_evidence,
)
from optimizer.io.formats import Layout
from optimizer.io.rows import ParsedChunk
from optimizer.io.validate import check_dates, missing_campaign

__all__ = ["KEY_COLUMNS", "check_report_kind", "collapse", "needs_collapse", "settle_dates"]

KEY_COLUMNS: tuple[str, ...] = (
    "date",
    "campaign",
    "ad_group",
    "keyword",
    "match_type",
    "account",
    "platform",
    "customer_id",
    "campaign_id",
    "ad_group_id",
    "criterion_id",
)
"""What makes a row one entity's day in a file: names, account and platform identity."""

_SUMMED = ("spend_micros", "clicks", "impressions", "conversions_micros", "value_micros")
_SEGMENT_LABELS = {
    "device": "device",
    "network": "network",
    "hour": "hour of the day",
    "top_vs_other": "top vs. other",
    "click_type": "click type",
    "conversion_action": "conversion action",
}


def check_report_kind(layout: Layout, *, sum_segments: bool) -> Layout:
    """The layout to read the file with, or InvalidInputError for a kind we cannot store right."""
    if layout.segments and not sum_segments:
        names = ", ".join(
            f"'{layout.header(field)}' ({_SEGMENT_LABELS[field]})" for field in layout.segments
        )
        raise InvalidInputError(
            f"the report is segmented by {names}, so each keyword has several rows a day; "
            "download it without segments, or ingest it with --sum-segments (API: "
            "sum_segments=true) to add the segments up per day"
        )
    if "search_term" in layout.columns:
        if "keyword" not in layout.columns:
            raise InvalidInputError(
                "this search terms report has no keyword column, so its rows cannot be tied to "
                "the keywords that matched them; add the 'Keyword' column to the report, or "
                "upload the Keywords report instead"
            )
        columns = {k: v for k, v in layout.columns.items() if k != "match_type"}
        return dataclasses.replace(layout, columns=columns)
    present = set(layout.columns)
    if "delivered_match_type" in present and not {"match_type", "criterion_id"} & present:
        raise InvalidInputError(
            "the report has the delivered match type (how each search matched) but not the "
            "bid match type or the keyword ID, so one keyword would be stored as several; "
            "add the 'Bid match type' or 'Keyword ID' column"
        )
    return layout


def needs_collapse(layout: Layout) -> bool:
    """Whether several rows of the file make one entity's day (segments, search terms)."""
    return bool(layout.segments) or any(
        field in layout.columns for field in ("search_term", "delivered_match_type")
    )


def collapse(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per entity and day: counts and amounts summed, the lost impression share
    weighted by impressions, the first line kept (for messages)."""
    if frame.empty:
        return frame
    lost = frame["lost_is_budget"].to_numpy(dtype=np.float64)
    weight = np.maximum(frame["impressions"].to_numpy(dtype=np.float64), 1.0)
    known = ~np.isnan(lost)
    work = frame.assign(
        _lost=np.where(known, lost * weight, 0.0),
        _weight=np.where(known, weight, 0.0),
    )
    grouped = work.groupby(list(KEY_COLUMNS), observed=True, sort=False, dropna=False)
    summed = grouped[[*_SUMMED, "_lost", "_weight"]].sum()
    summed["line"] = grouped["line"].min()
    out = summed.reset_index()
    out["lost_is_budget"] = np.where(
        out["_weight"] > 0, out["_lost"] / out["_weight"].where(out["_weight"] > 0, 1.0), np.nan
    )
    for name in KEY_COLUMNS[1:]:
        out[name] = out[name].astype("category")
    out = out.sort_values("line", kind="stable", ignore_index=True)
    return out.loc[:, list(frame.columns)]


def settle_dates(
    chunks: Sequence[ParsedChunk],
    layout: Layout,
    date_order: DateOrder | None,
    default_order: DateOrder | None,
    *,
    today: dt.date,
) -> None:
    """Read the dates left PENDING (03/11/2025) in the order the file proves, else the default
    (the account's locale); refuse the file, naming the first such cell, when nothing says."""
    evidence = DateEvidence()
    for chunk in chunks:
        evidence.add(chunk.evidence)
    evidence.add(text_evidence(layout.title_lines))
    column = layout.header("date")
    if date_order is None and len(evidence.only) == 2:
        (d_line, d_cell), (m_line, m_cell) = evidence.only["DMY"], evidence.only["MDY"]
        raise InvalidInputError(
            f"the dates in column '{column}' are written both ways: '{d_cell}' on line {d_line} "
            f"can only be day first, '{m_cell}' on line {m_line} only month first; fix the file"
        )
    if not any(len(chunk.pending) for chunk in chunks):
        return
    order = date_order or next(iter(evidence.only), None) or default_order
    if order is None:
        line, cell = evidence.first_ambiguous or (0, "")
        both = readings(cell)
        raise InvalidInputError(
            f"line {line}, column '{column}': '{cell}' reads two ways, {both.get('DMY')} (day "
            f"first) or {both.get('MDY')} (month first), and no date in the file settles it; say "
            "which with --date-order DMY or MDY (API: date_order), or set the account's locale"
        )
    for chunk in chunks:
        if len(chunk.pending):
            _settle(chunk, order, column, today)


def _settle(chunk: ParsedChunk, order: DateOrder, column: str, today: dt.date) -> None:
    rows = chunk.pending
    parsed = parse_dates(chunk.pending_cells, today, order)
    chunk.dates[rows] = parsed.values
    checked = check_dates(
        DateColumn(values=parsed.values, status=parsed.status),
        chunk.lines[rows],
        chunk.pending_cells,
        column=column,
        today=today,
        order=order,
    )
    chunk.errors.extend(checked.issues)
    chunk.bad[rows] |= checked.rows
    campaign_ok = ~missing_campaign(chunk.names["campaign"])[rows]
    chunk.key_ok[rows] = (parsed.status == DateStatus.OK) & campaign_ok
