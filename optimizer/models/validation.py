"""The boundary check for a history handed to the fitter: once, with messages saying what to fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import CANONICAL_COLUMNS, NAME_COLUMNS

__all__ = ["NUMERIC_COLUMNS", "validate_history"]

NUMERIC_COLUMNS: tuple[str, ...] = (
    "spend",
    "clicks",
    "impressions",
    "conversions",
    "conversion_value",
)


def validate_history(history: pd.DataFrame) -> pd.DataFrame:
    """A clean copy in the model shape (dates at midnight, names as text, numbers as floats).

    Raises InvalidInputError for anything else: not a frame, no rows, missing columns, empty cells,
    unreadable dates or numbers, negative or infinite numbers, an empty campaign name, or the same
    entity twice on one day.
    """
    if not isinstance(history, pd.DataFrame):
        raise InvalidInputError(f"history must be a pandas DataFrame, got {type(history).__name__}")
    missing = [c for c in CANONICAL_COLUMNS if c not in history.columns]
    if missing:
        found = ", ".join(map(str, history.columns))
        raise InvalidInputError(f"history lacks columns: {', '.join(missing)} (found: {found})")
    if history.empty:
        raise InvalidInputError("history has no rows: there is nothing to fit")
    frame = history.loc[:, list(CANONICAL_COLUMNS)]
    empty = [c for c in CANONICAL_COLUMNS if frame[c].isna().any()]
    if empty:
        counts = ", ".join(f"{c} ({int(frame[c].isna().sum())} rows)" for c in empty)
        raise InvalidInputError(f"history has empty (NaN) cells in: {counts}")
    try:
        dates = pd.to_datetime(frame["date"], format="ISO8601").dt.normalize()
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"history has dates that cannot be read: {exc}") from None
    out: dict[str, Any] = {"date": dates.astype("datetime64[ns]")}
    for name in NAME_COLUMNS:
        out[name] = frame[name].astype(str)
    for name in NUMERIC_COLUMNS:
        try:
            values = pd.to_numeric(frame[name]).to_numpy(dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"history column '{name}' is not numeric: {exc}") from None
        if not np.isfinite(values).all():
            raise InvalidInputError(f"history column '{name}' has infinite values")
        negative = int((values < 0).sum())
        if negative:
            raise InvalidInputError(
                f"history column '{name}' has {negative} negative values (e.g. {values.min()})"
            )
        out[name] = values
    clean = pd.DataFrame(out, index=frame.index).reset_index(drop=True)
    if (clean["campaign"].str.len() == 0).any():
        raise InvalidInputError("history has rows without a campaign name")
    duplicated = clean.duplicated(subset=["date", *NAME_COLUMNS])
    if duplicated.any():
        first = clean.loc[duplicated.to_numpy()].iloc[0]
        raise InvalidInputError(
            f"history has {int(duplicated.sum())} repeated (entity, day) rows, e.g. campaign "
            f"'{first['campaign']}', keyword '{first['keyword']}' on {first['date'].date()}"
        )
    return clean
