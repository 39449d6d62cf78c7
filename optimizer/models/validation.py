"""The boundary check for a history handed to the fitter: once, with messages saying what to fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS, LOST_IS_BUDGET_COLUMN, NAME_COLUMNS

__all__ = ["FIT_COLUMNS", "NUMERIC_COLUMNS", "validate_history"]

FloatArray = npt.NDArray[np.float64]

_KEY_LIMIT = 2**62

NUMERIC_COLUMNS: tuple[str, ...] = (
    "spend",
    "clicks",
    "impressions",
    "conversions",
    "conversion_value",
)
FIT_COLUMNS: tuple[str, ...] = ("spend", "clicks", "conversions", "conversion_value")


def validate_history(history: pd.DataFrame) -> pd.DataFrame:
    """A clean frame of what the fitter reads: `date` (midnight), the names (categoricals of text),
    `spend`, `clicks`, `conversions`, `conversion_value` (floats), the lost impression share when
    the history has that column (a fraction; empty cells are NaN, unknown) and `entity`, a dense
    entity code in sorted name order.

    Raises InvalidInputError for anything else: not a frame, no rows, missing columns, empty cells,
    unreadable dates or numbers, negative or infinite numbers (clicks and impressions included,
    though the fitter does not keep them), an empty campaign name, or the same entity twice on one
    day, or a lost impression share outside 0..1. Names are categoricals and rows are keyed by
    integer codes, so the frame costs a few bytes per row beyond its numbers: memory grows with the
    rows' numbers, not with their text.
    """
    if not isinstance(history, pd.DataFrame):
        raise InvalidInputError(f"history must be a pandas DataFrame, got {type(history).__name__}")
    missing = [c for c in CANONICAL_COLUMNS if c not in history.columns]
    if missing:
        found = ", ".join(map(str, history.columns))
        raise InvalidInputError(f"history lacks columns: {', '.join(missing)} (found: {found})")
    if history.empty:
        raise InvalidInputError("history has no rows: there is nothing to fit")
    empty = [c for c in CANONICAL_COLUMNS if history[c].isna().any()]
    if empty:
        counts = ", ".join(f"{c} ({int(history[c].isna().sum())} rows)" for c in empty)
        raise InvalidInputError(f"history has empty (NaN) cells in: {counts}")
    try:
        dates = pd.to_datetime(history["date"], format="ISO8601").dt.normalize()
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"history has dates that cannot be read: {exc}") from None
    out: dict[str, Any] = {"date": dates.to_numpy(dtype="datetime64[ns]")}
    for name in NAME_COLUMNS:
        out[name] = _text_category(history[name])
    if (out["campaign"].categories.str.len() == 0).any():
        raise InvalidInputError("history has rows without a campaign name")
    for name in NUMERIC_COLUMNS:
        values = _numbers(history[name], name)
        if name in FIT_COLUMNS:
            out[name] = values
    if LOST_IS_BUDGET_COLUMN in history.columns:
        out[LOST_IS_BUDGET_COLUMN] = _share(history[LOST_IS_BUDGET_COLUMN])
    out["entity"] = _entity_codes([out[name] for name in NAME_COLUMNS])
    clean = pd.DataFrame(out, index=pd.RangeIndex(len(history)), copy=False)
    _reject_repeated_days(clean)
    return clean


def _numbers(column: pd.Series, name: str) -> FloatArray:
    try:
        values = pd.to_numeric(column).to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"history column '{name}' is not numeric: {exc}") from None
    if not np.isfinite(values).all():
        raise InvalidInputError(f"history column '{name}' has infinite values")
    negative = int((values < 0).sum())
    if negative:
        raise InvalidInputError(
            f"history column '{name}' has {negative} negative values (e.g. {values.min()})"
        )
    return values


def _share(column: pd.Series) -> FloatArray:
    try:
        values = pd.to_numeric(column).to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"history column '{LOST_IS_BUDGET_COLUMN}' is not numeric: {exc}"
        ) from None
    known = values[~np.isnan(values)]
    if ((known < 0) | (known > 1)).any():
        raise InvalidInputError(
            f"history column '{LOST_IS_BUDGET_COLUMN}' is a share and must lie between 0 and 1"
        )
    return values


def _text_category(column: pd.Series) -> pd.Categorical[Any]:
    """Names as a categorical of text, used categories only, sorted (codes order like the text)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = pd.Categorical(column).remove_unused_categories()
        text = values.categories.astype(str)
        if text.is_unique:
            renamed = values.rename_categories(dict(zip(values.categories, text, strict=True)))
            ordered: pd.Categorical[Any] = renamed.reorder_categories(sorted(text))
            return ordered
    return pd.Categorical(column.astype(str))


def _entity_codes(names: list[pd.Categorical[Any]]) -> npt.NDArray[np.int64]:
    """Dense codes of the name tuples, numbered in sorted name order (campaign first).

    The per-column codes are combined into one integer (re-densified whenever the next column
    would overflow it), which a hash factorisation then numbers: no per-row tuples or strings.
    """
    key = np.zeros(len(names[0]), dtype=np.int64)
    bound = 1
    for column in names:
        size = max(1, len(column.categories))
        if bound * size >= _KEY_LIMIT:
            key, uniques = pd.factorize(key, sort=True)
            bound = max(1, len(uniques))
        key = key * size + column.codes.astype(np.int64)
        bound *= size
    codes, _ = pd.factorize(key, sort=True)
    return np.asarray(codes, dtype=np.int64)


def _reject_repeated_days(clean: pd.DataFrame) -> None:
    first = clean["date"].min()
    day = (clean["date"] - first).dt.days.to_numpy(dtype=np.int64)
    span = int(day.max()) + 1
    pairs = np.sort(clean["entity"].to_numpy() * span + day)
    repeated = pairs[1:] == pairs[:-1]
    if not repeated.any():
        return
    entity, offset = divmod(int(pairs[1:][repeated][0]), span)
    row = clean.iloc[int(np.argmax(clean["entity"].to_numpy() == entity))]
    when = (first + pd.Timedelta(days=offset)).date()
    raise InvalidInputError(
        f"history has {int(repeated.sum())} repeated (entity, day) rows, e.g. campaign "
        f"'{row['campaign']}', keyword '{row['keyword']}' on {when}"
    )
