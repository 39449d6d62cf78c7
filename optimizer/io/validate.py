"""Row rules: turn per-cell parse outcomes into RowIssues a marketer can act on.

Every check is a vectorised mask; RowIssue objects are only built for the rows that fail, so clean
files pay almost nothing here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import RowIssue
from optimizer.io.dates import EARLIEST_DATE, DateColumn, DateOrder, DateStatus
from optimizer.io.numbers import MAX_FIGURE, NumberColumn, NumberStatus
from optimizer.schema import MICROS, NAME_COLUMNS, EntityKey, entity_label

__all__ = [
    "MAX_NAME_CHARS",
    "Checked",
    "check_campaign",
    "check_conversions_vs_clicks",
    "check_dates",
    "check_duplicates",
    "check_names",
    "check_number",
    "check_row_width",
    "missing_campaign",
]

Lines = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_NUMBER_MESSAGES = {
    NumberStatus.EMPTY: "{label} is empty",
    NumberStatus.NOT_A_NUMBER: "{label} is not a number",
    NumberStatus.NOT_FINITE: "{label} must be a finite number",
    NumberStatus.TOO_LARGE: "{label} is too large to be a real figure (more than {maximum:,})",
    NumberStatus.NEGATIVE: "{label} cannot be negative",
    NumberStatus.NOT_WHOLE: "{label} must be a whole number",
}


@dataclass(frozen=True)
class Checked:
    """Issues found by one rule and the rows they concern."""

    issues: list[RowIssue]
    rows: Mask


def _issues(
    rows: Mask,
    lines: Lines,
    raw: pd.Series | None,
    column: str | None,
    message: Callable[[int], str],
    severity: str = "error",
) -> Checked:
    found = [
        RowIssue(
            line=int(lines[index]),
            column=column,
            value=None if raw is None else str(raw.iat[int(index)]),
            message=message(int(index)),
            severity=severity,
        )
        for index in np.flatnonzero(rows)
    ]
    return Checked(issues=found, rows=rows)


def check_number(
    parsed: NumberColumn, lines: Lines, raw: pd.Series, *, column: str, label: str, required: bool
) -> Checked:
    """Not a number, non-finite, too large, negative, fractional count; empty only if required."""
    status = parsed.status
    bad = status != NumberStatus.OK
    if not required:
        bad &= status != NumberStatus.EMPTY
    return _issues(
        bad,
        lines,
        raw,
        column,
        lambda index: _NUMBER_MESSAGES[NumberStatus(status[index])].format(
            label=label, maximum=MAX_FIGURE
        ),
    )


def _date_message(
    status: DateStatus, cell: str, today: dt.date, order: DateOrder | None = None
) -> str:
    text = cell.strip()
    if status == DateStatus.EMPTY:
        return "date is empty"
    if status == DateStatus.NOT_REAL:
        if ":" in text:
            return (
                f"{text} has a time of day that does not exist (00:00:00 to 23:59:59; a leap "
                "second is refused, not read as its date)"
            )
        if order is not None and ("/" in text or "-" in text):
            way = "day first (D/M/YYYY)" if order == "DMY" else "month first (M/D/YYYY)"
            return f"{text} is not a real date (this file's dates are read {way})"
        return f"{text} is not a real date"
    if status == DateStatus.FUTURE:
        return f"date is in the future (after {today.isoformat()})"
    if status == DateStatus.TOO_OLD:
        return f"date is before {EARLIEST_DATE.isoformat()}; check the year"
    return f"'{text}' is not a date we recognise (write it like {today.isoformat()})"


def check_dates(
    parsed: DateColumn,
    lines: Lines,
    raw: pd.Series,
    *,
    column: str,
    today: dt.date,
    order: DateOrder | None = None,
) -> Checked:
    """Empty, unreadable, impossible (Feb 30), future and implausibly old dates; a date that
    reads two ways (PENDING) is not an error yet: the file's order is settled once it is read."""
    status = parsed.status
    return _issues(
        (status != DateStatus.OK) & (status != DateStatus.PENDING),
        lines,
        raw,
        column,
        lambda index: _date_message(DateStatus(status[index]), str(raw.iat[index]), today, order),
    )


MAX_NAME_CHARS = 500
"""About twice the 255 characters Google Ads allows in a name; longer means a damaged file."""
_NAME_LABELS = {
    "campaign": "campaign name",
    "ad_group": "ad group name",
    "keyword": "keyword",
    "match_type": "match type",
}
# Unicode category Cc (C0, DEL, C1) except tab and line ends, which quoted names may hold.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters ({len(name):,})"
    if found := _CONTROL.search(name):
        return f"contains a control character (U+{ord(found[0]):04X})"
    return None


def _escaped(name: str) -> str:
    """The name with control characters written as escapes, safe to print to a terminal."""
    return _CONTROL.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), name)


def check_names(names: pd.Categorical, lines: Lines, *, name: str, column: str) -> Checked:
    """Names longer than any platform allows, or holding control characters (NUL, ESC, ...).

    Each distinct name is checked once; the issue shows the name with its controls escaped.
    """
    categories = pd.Series(names.categories, dtype=object).astype(str)
    suspect = (categories.str.len() > MAX_NAME_CHARS) | categories.str.contains(_CONTROL)
    codes = np.asarray(names.codes)
    rows = suspect.to_numpy(dtype=bool)[codes]
    if not rows.any():
        return Checked(issues=[], rows=rows)
    label = _NAME_LABELS.get(name, name)
    text = [str(category) for category in categories]
    problems = {int(code): _name_problem(text[code]) for code in np.flatnonzero(suspect)}
    by_code = np.array(
        [_escaped(text[code]) if code in problems else "" for code in range(len(text))],
        dtype=object,
    )
    raw = pd.Series(by_code[codes], dtype=object)
    return _issues(rows, lines, raw, column, lambda index: f"{label} {problems[int(codes[index])]}")


def missing_campaign(campaign: pd.Categorical) -> Mask:
    """Rows whose campaign name is empty."""
    empty_category = np.array([category == "" for category in campaign.categories], dtype=bool)
    return empty_category[np.asarray(campaign.codes)]


def check_campaign(
    campaign: pd.Categorical, lines: Lines, raw: pd.Series, *, column: str
) -> Checked:
    """Every row must name its campaign: budget is split per campaign first."""
    return _issues(
        missing_campaign(campaign), lines, raw, column, lambda _: "campaign name is empty"
    )


def check_conversions_vs_clicks(
    conversions: NumberColumn, clicks: NumberColumn, lines: Lines, raw: pd.Series, *, column: str
) -> Checked:
    """More conversions than clicks can happen (view-through, several per click) but is suspect."""
    ok = (conversions.status == NumberStatus.OK) & (clicks.status == NumberStatus.OK)
    rows = ok & (conversions.values > clicks.values * MICROS)
    return _issues(
        rows,
        lines,
        raw,
        column,
        lambda index: (
            f"more conversions ({conversions.values[index] / MICROS:g}) than clicks "
            f"({clicks.values[index]}); check the conversion tracking"
        ),
        severity="warning",
    )


_LISTED_LINES = 10


def _also_on(own: int, first_lines: list[int], count: int) -> str:
    """'also on line 7' / 'also on lines 7, 9' / '... and 120 more', never quoting `own`."""
    others = [line for line in first_lines if line != own][:_LISTED_LINES]
    rest = count - 1 - len(others)
    listed = ", ".join(map(str, others)) + (f" and {rest} more" if rest else "")
    return f"also on line{'s' if count > 2 else ''} {listed}"


def check_duplicates(keys: pd.DataFrame, lines: Lines, eligible: Mask) -> Checked:
    """The same entity and day on several lines: every occurrence is an error naming the others.

    `keys` holds `date`, the name columns and whatever else tells entities apart (account,
    platform IDs) for the whole file, so duplicates are found across chunks; rows without a valid
    date or campaign are not `eligible` (they already have an error).
    """
    columns = list(keys.columns)
    rows = keys.duplicated(subset=columns, keep=False).to_numpy(dtype=bool) & eligible
    if not rows.any():
        return Checked(issues=[], rows=rows)
    positions = np.flatnonzero(rows)
    subset = keys.iloc[positions]
    groups = subset.groupby(columns, observed=True, sort=False).ngroup().to_numpy()
    group_size = np.bincount(groups)
    group_start = np.cumsum(group_size) - group_size
    lines_by_group = lines[positions][np.lexsort((lines[positions], groups))]
    subset_row = np.empty(len(keys), dtype=np.int64)
    subset_row[positions] = np.arange(len(positions))
    days = subset["date"].dt.strftime("%Y-%m-%d").to_numpy()
    names = [subset[name].astype(str).to_numpy() for name in NAME_COLUMNS]

    def message(index: int) -> str:
        row = int(subset_row[index])
        group = int(groups[row])
        start, size = int(group_start[group]), int(group_size[group])
        first_lines = lines_by_group[start : start + min(size, _LISTED_LINES + 1)].tolist()
        also = _also_on(int(lines[index]), first_lines, size)
        key = EntityKey(*(str(column[row]) for column in names))
        return f"{entity_label(key)} on {days[row]} appears more than once in the file ({also})"

    return _issues(rows, lines, None, None, message)


def check_row_width(
    extra: pd.Series, lines: Lines, *, header_cells: int, delimiter: str
) -> Checked:
    """A filled cell beyond the header's last column means the row's cells are shifted."""
    rows = np.array(extra != "", dtype=bool)
    if rows.any():
        rows[rows] = (extra[rows].str.strip() != "").to_numpy(dtype=bool)
    return _issues(
        rows,
        lines,
        extra,
        None,
        lambda _: (
            f"this line has more cells than the header ({header_cells}); a name probably "
            f"contains an unquoted {delimiter}"
        ),
    )
