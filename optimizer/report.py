"""Recommendation tables as PPC managers and ad scripts read them, and safe CSV output.

`recommendation_table` turns an `Allocation` into the published columns, per keyword or per
campaign, with every figure already in the form every door shows it: money rounded down to the
currency's minor unit (`optimizer.money`'s one rule), conversions to `CONVERSION_DECIMALS`, so the
CLI's CSV and JSON, the API and the dashboard show the same numbers. `to_safe_csv` writes it so
that a name such as `=HYPERLINK(...)` is shown as text, not run as a formula, when the file is
opened in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.bands import likely_range, scaled_band
from optimizer.errors import InvalidInputError
from optimizer.money import minor_unit_micros
from optimizer.schema import MICROS, NAME_COLUMNS
from optimizer.solver import Allocation

__all__ = [
    "CONVERSION_DECIMALS",
    "RECOMMENDATION_COLUMNS",
    "Level",
    "likely_total",
    "parse_level",
    "recommendation_table",
    "to_editor_csv",
    "to_safe_csv",
]

Level = Literal["keyword", "campaign"]

CONVERSION_DECIMALS = 2
"""Conversions are shown with two decimals, as the ad platforms show them."""

RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "date",
    *NAME_COLUMNS,
    "current_spend",
    "recommended_spend",
    "change_pct",
    "expected_conversions",
    "expected_conversions_low",
    "expected_conversions_high",
    "likely_conversions_low",
    "likely_conversions_high",
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
    "likely_low_mean",
    "likely_high_mean",
)


def recommendation_table(
    allocation: Allocation, day: dt.date, level: Level, *, band_scale: float = 1.0
) -> pd.DataFrame:
    """One row per entity (`keyword`) or per campaign (`campaign`), in `RECOMMENDATION_COLUMNS`.

    `expected_conversions_low/high` bound the expected value (the curves' uncertainty, as fitted);
    `likely_conversions_low/high` are the 80% range of the conversions that will be counted: the
    curve band scaled by the account's calibration (`band_scale`) plus count noise, whole
    conversions (`optimizer.bands.likely_range`). A campaign's range comes from its summed means.

    Recommended spend comes from the rounded micros, so the rows add up to the allocation's total
    (never above the cap). A campaign's figures are summed from its entities' exact amounts before
    they are rounded for showing. A campaign's marginal CPA is the cheapest next conversion among
    its entities that could take more budget; its bound lists what binds its entities.
    """
    low_mean, high_mean = scaled_band(
        allocation.entities["expected_conversions"],
        allocation.entities["conversions_low"],
        allocation.entities["conversions_high"],
        band_scale,
    )
    entities = allocation.entities.assign(
        current_micros=np.rint(allocation.entities["current_spend"].to_numpy() * MICROS),
        value_micros=np.rint(allocation.entities["expected_value"].to_numpy() * MICROS),
        likely_low_mean=low_mean,
        likely_high_mean=high_mean,
    )
    if level == "keyword":
        rows = entities.rename(
            columns={
                "conversions_low": "expected_conversions_low",
                "conversions_high": "expected_conversions_high",
                "binding": "bound",
            }
        )
    elif level == "campaign":
        grouped = entities.groupby("campaign", sort=True)
        rows = grouped[[*_SUMMED, "current_micros", "value_micros"]].sum().reset_index()
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
        for name in NAME_COLUMNS[1:]:
            rows[name] = ""
    else:
        raise InvalidInputError(f"level must be 'keyword' or 'campaign', not '{level}'")
    likely_low, likely_high = likely_range(rows["likely_low_mean"], rows["likely_high_mean"])
    rows = rows.assign(likely_conversions_low=likely_low, likely_conversions_high=likely_high)
    unit = minor_unit_micros(allocation.currency)
    current = _shown(rows["current_micros"].to_numpy(dtype=np.float64), unit)
    recommended = _shown(rows["recommended_micros"].to_numpy(dtype=np.float64), unit)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(current > 0, (recommended - current) / current * 100, 0.0)
    cpa = rows["marginal_cpa"].to_numpy(dtype=np.float64, copy=True)
    finite = np.isfinite(cpa)
    cpa[finite] = _shown(np.rint(cpa[finite] * MICROS), unit)
    rows = rows.assign(
        date=day.isoformat(),
        current_spend=current,
        recommended_spend=recommended,
        change_pct=np.round(change, 2),
        expected_value=_shown(rows["value_micros"].to_numpy(dtype=np.float64), unit),
        marginal_cpa=cpa,
    )
    for column in ("expected_conversions", "expected_conversions_low", "expected_conversions_high"):
        rows[column] = rows[column].round(CONVERSION_DECIMALS)
    return rows.loc[:, list(RECOMMENDATION_COLUMNS)].reset_index(drop=True)


def likely_total(allocation: Allocation, band_scale: float = 1.0) -> tuple[float, float]:
    """The 80% range of the conversions the whole plan will count (see `recommendation_table`)."""
    entities = allocation.entities
    low, high = scaled_band(
        entities["expected_conversions"],
        entities["conversions_low"],
        entities["conversions_high"],
        band_scale,
    )
    lo, hi = likely_range(np.array([low.sum()]), np.array([high.sum()]))
    return float(lo[0]), float(hi[0])


def _shown(micros: npt.NDArray[np.float64], unit: int) -> npt.NDArray[np.float64]:
    """Amounts in micros -> currency units rounded down to the minor unit: the float nearest the
    decimal, so it prints as that decimal ("237.14") in CSV and JSON alike."""
    whole = np.floor(micros / unit) * unit
    return np.asarray(whole / MICROS, dtype=np.float64)


def _joined_bounds(values: pd.Series) -> str:
    named = sorted({str(v) for v in values if v and v != "none"})
    return ";".join(named) if named else "none"


def to_safe_csv(table: pd.DataFrame) -> str:
    """CSV text: formula-looking text cells prefixed by an apostrophe (OWASP CSV injection).

    Figures are written as `recommendation_table` rounded them, so the CSV says what the JSON says.
    """
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralised)
    return str(safe.to_csv(index=False, lineterminator="\n"))


EDITOR_COLUMNS = ("Campaign", "Budget")
"""Google Ads Editor's CSV import headers for a campaign's name and its daily budget."""


def to_editor_csv(campaigns: pd.DataFrame) -> tuple[str, list[str]]:
    """A campaign-level plan as a Google Ads Editor import (Account > Import > CSV): one row per
    campaign, its name and daily budget with a point as the decimal mark; and the campaigns left
    out because Editor refuses a budget of zero (pause those by hand, or leave them as they are).

    Names are written as they are, even formula-looking ones: Editor matches campaigns by name,
    so a neutralised name would address a campaign that does not exist.
    """
    kept, zero = [], []
    for name, budget in zip(campaigns["campaign"], campaigns["recommended_spend"], strict=True):
        amount = str(budget)
        if Decimal(amount) > 0:
            kept.append((str(name), amount))
        else:
            zero.append(str(name))
    text = pd.DataFrame(kept, columns=list(EDITOR_COLUMNS)).to_csv(index=False, lineterminator="\n")
    return str(text), zero


def _neutralised(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
