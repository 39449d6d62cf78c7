"""Numbers and names as they appear in the solver's explanations ("7,200.00", "Brand / shoes")."""

from __future__ import annotations

import math

import pandas as pd

from optimizer.money import CURRENCY_MINOR_UNITS
from optimizer.schema import NAME_COLUMNS, EntityKey, entity_label

__all__ = ["amount", "entity_names", "ratio"]


def amount(value: float, currency: str) -> str:
    """An amount with thousands separators and the currency's decimals, without the code."""
    if not math.isfinite(value):
        return "unlimited" if value > 0 else "-unlimited"
    return f"{value:,.{CURRENCY_MINOR_UNITS[currency]}f}"


def ratio(value: float) -> str:
    """A CPA-, ROAS- or conversions-like figure with two decimals."""
    return f"{value:,.2f}" if math.isfinite(value) else "unbounded"


def entity_names(rows: pd.DataFrame) -> list[str]:
    """Readable names of curve-table rows, e.g. "Brand / Shoes / red shoes [exact]"."""
    columns = [rows[name].fillna("").astype(str).tolist() for name in NAME_COLUMNS]
    return [entity_label(EntityKey(*parts)) for parts in zip(*columns, strict=True)]
