"""Recommendation tables as PPC managers and ad scripts read them, and safe CSV output.

`recommendation_table` turns an `Allocation` into the published columns, per keyword or per
campaign; `to_safe_csv` writes it so that a name such as `=HYPERLINK(...)` is shown as text, not
run as a formula, when the file is opened in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.schema import MICROS, NAME_COLUMNS
from optimizer.solver import Allocation

__all__ = [
    "RECOMMENDATION_COLUMNS",
    "Level",
    "parse_level",
    "recommendation_table",
    "to_safe_csv",
]

Level = Literal["keyword", "campaign"]

RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "date",
    *NAME_COLUMNS,
    "current_spend",
    "recommended_spend",
    "change_pct",
    "expected_conversions",
    "expected_conversions_low",
    "expected_conversions_high",
    "expected_value",
    "marginal_cpa",
    "bound",
)


def parse_level(text: str) -> Level:
    """'keyword' or 'campaign', else InvalidInputError."""
    if text == "keyword":
        return "keyword"
    if text == "campaign":
        return "campaign"
    raise InvalidInputError(f"level must be 'keyword' or 'campaign', not '{text}'")


_FREE = ("cap", "none")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SUMMED = (
    "current_spend",
    "recommended_micros",
    "expected_conversions",
    "conversions_low",
    "conversions_high",
    "expected_value",
)


def recommendation_table(allocation: Allocation, day: dt.date, level: Level) -> pd.DataFrame:
    """One row per entity (`keyword`) or per campaign (`campaign`), in `RECOMMENDATION_COLUMNS`.

    Recommended spend comes from the rounded micros, so the rows add up to the allocation's total
    (never above the cap). A campaign's marginal CPA is the cheapest next conversion among its
    entities that could take more budget; its bound lists what binds its entities.
    """
    entities = allocation.entities
    if level == "keyword":
        rows = entities.rename(
            columns={
                "conversions_low": "expected_conversions_low",
                "conversions_high": "expected_conversions_high",
                "binding": "bound",
            }
        ).assign(recommended_spend=entities["recommended_micros"] / MICROS)
    elif level == "campaign":
        grouped = entities.groupby("campaign", sort=True)
        rows = grouped[list(_SUMMED)].sum().reset_index()
        free_cpa = entities["marginal_cpa"].where(entities["binding"].isin(_FREE), np.inf)
        cheapest_free = free_cpa.groupby(entities["campaign"], sort=True).min().to_numpy()
        cheapest_any = grouped["marginal_cpa"].min().to_numpy()
        rows["marginal_cpa"] = np.where(np.isfinite(cheapest_free), cheapest_free, cheapest_any)
        rows["bound"] = grouped["binding"].agg(_joined_bounds).to_numpy()
        rows = rows.rename(
            columns={
                "conversions_low": "expected_conversions_low",
                "conversions_high": "expected_conversions_high",
            }
        )
        rows["recommended_spend"] = rows["recommended_micros"] / MICROS
        for name in NAME_COLUMNS[1:]:
            rows[name] = ""
        current = rows["current_spend"].to_numpy(dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(
                current > 0, (rows["recommended_spend"].to_numpy() - current) / current * 100, 0.0
            )
        rows["change_pct"] = change
    else:
        raise InvalidInputError(f"level must be 'keyword' or 'campaign', not '{level}'")
    rows = rows.assign(date=day.isoformat())
    return rows.loc[:, list(RECOMMENDATION_COLUMNS)].reset_index(drop=True)


def _joined_bounds(values: pd.Series) -> str:
    named = sorted({str(v) for v in values if v and v != "none"})
    return ";".join(named) if named else "none"


_DECIMALS = {
    "current_spend": 2,
    "change_pct": 2,
    "expected_conversions": 4,
    "expected_conversions_low": 4,
    "expected_conversions_high": 4,
    "expected_value": 2,
    "marginal_cpa": 4,
}


def to_safe_csv(table: pd.DataFrame) -> str:
    """CSV text: formula-looking text cells prefixed by an apostrophe (OWASP CSV injection).

    Recommended spend is written in full (it is already a whole number of minor units); estimates
    are rounded to what they can support.
    """
    safe = table.copy()
    for column in safe.columns:
        if column in _DECIMALS:
            safe[column] = safe[column].round(_DECIMALS[column])
        elif safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralised)
    return str(safe.to_csv(index=False, lineterminator="\n"))


def _neutralised(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
