"""Seeded curve tables for solver tests, and an independent exact optimum by bisection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.curve_table import CURVE_TABLE_COLUMNS
from optimizer.families import FAMILIES

FAMILY_NAMES = ("hill", "power", "log")


def random_table(
    n: int,
    seed: int,
    *,
    campaigns: int | None = None,
    families: tuple[str, ...] = FAMILY_NAMES,
    trust: tuple[float, float] = (0.0, 4.0),
) -> pd.DataFrame:
    """n entities with concave curves whose marginal CPA near current spend is 5..100.

    Campaigns alternate between 'brand-*' and 'generic-*' names; the first entity of each campaign
    is the campaign-level row (no keyword).
    """
    rng = np.random.default_rng(seed)
    campaigns = campaigns or max(1, n // 5)
    current = np.round(rng.lognormal(3.0, 0.8, n), 2)
    family = rng.choice(np.array(families), n)
    target_cpa = rng.uniform(5.0, 100.0, n)
    k = current * rng.uniform(0.5, 4.0, n)
    s = rng.uniform(0.5, 1.0, n)
    b = rng.uniform(0.3, 0.9, n)
    params = {
        "a": np.zeros(n),
        "k": np.full(n, np.nan),
        "s": np.full(n, np.nan),
        "b": np.full(n, np.nan),
    }
    for name in families:
        mask = family == name
        spec = FAMILIES[name]
        trial = {"a": np.ones(mask.sum()), "k": k[mask], "s": s[mask], "b": b[mask]}
        slope = spec.derivative(current[mask], *(trial[p] for p in spec.param_names))
        params["a"][mask] = 1.0 / (target_cpa[mask] * slope)
        for p in spec.param_names:
            if p != "a":
                params[p][mask] = trial[p]
    camp = np.arange(n) % campaigns
    names = np.where(camp % 2 == 0, "brand-", "generic-").astype(object) + pd.Series(camp).map(
        "{:03d}".format
    ).to_numpy(dtype=object)
    first = ~pd.Series(camp).duplicated().to_numpy()
    table = pd.DataFrame(
        {
            "entity_id": [f"e{i:06d}" for i in range(n)],
            "campaign": names,
            "ad_group": np.where(first, "", "ag"),
            "keyword": np.where(first, "", [f"kw {i}" for i in range(n)]),
            "match_type": np.where(first, "", "exact"),
            "family": family,
            **params,
            **{f"low_{p}": v * (0.8 if p == "a" else 1.0) for p, v in params.items()},
            **{f"high_{p}": v * (1.2 if p == "a" else 1.0) for p, v in params.items()},
            "multiplier": rng.uniform(0.8, 1.2, n),
            "value_per_conversion": np.round(rng.uniform(20.0, 200.0, n), 2),
            "current_spend": current,
            "spend_min_obs": 0.3 * current,
            "spend_max_obs": 2.0 * current,
            "trust_low": trust[0] * current,
            "trust_high": trust[1] * current,
            "grade": "A",
        }
    )
    return table.loc[:, list(CURVE_TABLE_COLUMNS)]


def curve_values(
    table: pd.DataFrame, x: np.ndarray, *, derivative: bool = False, band: str = ""
) -> np.ndarray:
    """multiplier * f(x) (or its slope) row by row, straight from the families registry."""
    return _Curves(table, band)(x, derivative=derivative)


class _Curves:
    """The table's curves with their parameters pulled out once (bisection calls them often)."""

    def __init__(self, table: pd.DataFrame, band: str = "") -> None:
        prefix = f"{band}_" if band else ""
        self.n = len(table)
        self.parts = []
        multiplier = table["multiplier"].to_numpy()
        for name, spec in FAMILIES.items():
            mask = (table["family"] == name).to_numpy()
            if mask.any():
                args = [table[f"{prefix}{p}"].to_numpy()[mask] for p in spec.param_names]
                self.parts.append((mask, spec, args, multiplier[mask]))

    def __call__(self, x: np.ndarray, *, derivative: bool = False) -> np.ndarray:
        out = np.zeros(self.n)
        for mask, spec, args, scale in self.parts:
            fn = spec.derivative if derivative else spec.function
            out[mask] = scale * fn(x[mask], *args)
        return out


def spend_at_price(
    table: pd.DataFrame,
    lam: float,
    lower: np.ndarray,
    upper: np.ndarray,
    weights: np.ndarray,
    curves: _Curves | None = None,
) -> np.ndarray:
    """Per entity, the spend in [lower, upper] where weights * f'(x) = lam (bisection on x)."""
    curves = curves or _Curves(table)
    lo, hi = lower.astype(float), upper.astype(float)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        above = weights * curves(mid, derivative=True) > lam
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def exact_optimum(
    table: pd.DataFrame,
    budget: float,
    lower: np.ndarray,
    upper: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """max sum w * f(x) s.t. sum x <= budget, lower <= x <= upper, by nested bisection.

    For a price lam every entity spends where w f'(x) = lam (clipped to its bounds); lam is bisected
    (on its log) until the spends add up to the budget.
    """
    w = np.ones(len(table)) if weights is None else weights
    curves = _Curves(table)
    if upper.sum() <= budget:
        x = upper.copy()
    else:
        lam_lo, lam_hi = 1e-12, 1e12
        for _ in range(100):
            lam = np.sqrt(lam_lo * lam_hi)
            if spend_at_price(table, lam, lower, upper, w, curves).sum() > budget:
                lam_lo = lam
            else:
                lam_hi = lam
        x = spend_at_price(table, lam_hi, lower, upper, w, curves)
    return x, float((w * curves(x)).sum())


def to_micros(amount: float) -> int:
    """An amount in currency units as the solver takes it: whole micros."""
    return round(amount * 1_000_000)
