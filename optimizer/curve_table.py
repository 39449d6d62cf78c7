"""The hand-off between fitted curves and the solver: one row per entity, plain columns.

The models produce it (`optimizer.models`), the solver consumes it (`optimizer.solver`), and neither
imports the other. Curves are evaluated with `optimizer.families`:

    expected conversions/day at spend x = multiplier * f_family(x; a, k, s, b)

and the 10% / 90% band curves use the same family with the `low_*` / `high_*` parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.families import FAMILIES
from optimizer.schema import NAME_COLUMNS

__all__ = [
    "CURVE_TABLE_COLUMNS",
    "PARAM_COLUMNS",
    "band_params",
    "curve_params",
    "validate_curve_table",
]

PARAM_COLUMNS: tuple[str, ...] = ("a", "k", "s", "b")

CURVE_TABLE_COLUMNS: tuple[str, ...] = (
    "entity_id",
    *NAME_COLUMNS,
    "family",
    *PARAM_COLUMNS,
    *(f"low_{p}" for p in PARAM_COLUMNS),
    *(f"high_{p}" for p in PARAM_COLUMNS),
    "multiplier",
    "value_per_conversion",
    "current_spend",
    "spend_min_obs",
    "spend_max_obs",
    "trust_low",
    "trust_high",
    "grade",
)


def validate_curve_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check the columns and basic sanity once, at the solver's boundary."""
    missing = [c for c in CURVE_TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise InvalidInputError(f"curve table lacks columns: {', '.join(missing)}")
    unknown = sorted(set(table["family"]) - set(FAMILIES))
    if unknown:
        raise InvalidInputError(f"curve table has unknown families: {', '.join(unknown)}")
    if table["entity_id"].duplicated().any():
        raise InvalidInputError("curve table has duplicate entity_id values")
    numeric = ["multiplier", "value_per_conversion", "current_spend", "trust_low", "trust_high"]
    values = table[numeric].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise InvalidInputError("curve table has negative or non-finite numbers")
    if (table["trust_low"] > table["trust_high"]).any():
        raise InvalidInputError("curve table has trust_low above trust_high")
    return table


def curve_params(table: pd.DataFrame, prefix: str = "") -> dict[str, np.ndarray]:
    """Parameter arrays (a, k, s, b) for vectorised evaluation; prefix '' / 'low_' / 'high_'."""
    return {p: table[f"{prefix}{p}"].to_numpy(dtype=np.float64) for p in PARAM_COLUMNS}


def band_params(table: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return curve_params(table, "low_"), curve_params(table, "high_")
