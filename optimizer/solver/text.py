"""Numbers and names as they appear in the solver's explanations ("7,200.00", "Brand / shoes")."""

from __future__ import annotations

import math

import pandas as pd

from optimizer.money import currency_places, micros_to_decimal
from optimizer.schema import MICROS, NAME_COLUMNS, EntityKey, entity_label

__all__ = ["amount", "entity_names", "ratio"]


def amount(value: float, currency: str) -> str:
    """An amount with thousands separators and the currency's decimals, without the code; rounded
    down to the minor unit like every money figure the product shows."""
    if not math.isfinite(value):
        return "unlimited" if value > 0 else "-unlimited"
    micros = round(value * MICROS)
    shown = micros_to_decimal(abs(micros), currency)
    return f"{'-' if micros < 0 else ''}{shown:,.{currency_places(currency)}f}"


def ratio(value: float) -> str:
    """A CPA-, ROAS- or conversions-like figure with two decimals."""
    return f"{value:,.2f}" if math.isfinite(value) else "unbounded"


def entity_names(rows: pd.DataFrame) -> list[str]:
    """Readable names of curve-table rows, e.g. "Brand / Shoes / red shoes [exact]"."""
    columns = [rows[name].fillna("").astype(str).tolist() for name in NAME_COLUMNS]
    return [entity_label(EntityKey(*parts)) for parts in zip(*columns, strict=True)]
