"""The allocator's answer: one row per entity and the totals, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from optimizer.money import format_money
from optimizer.schema import MICROS, NAME_COLUMNS
from optimizer.solver.relax import Relaxation

__all__ = ["ENTITY_COLUMNS", "Allocation"]

ENTITY_COLUMNS: tuple[str, ...] = (
    "entity_id",
    *NAME_COLUMNS,
    "current_spend",
    "recommended_spend",
    "recommended_micros",
    "change_pct",
    "expected_conversions",
    "conversions_low",
    "conversions_high",
    "expected_value",
    "marginal_cpa",
    "binding",
)

_OBJECTIVE_UNITS = {
    "conversions": "conversions",
    "value": "of conversion value",
    "profit": "of profit",
    "min_cost": "of cost saved",
}


@dataclass(frozen=True, eq=False)
class Allocation:
    """Recommended daily spend per entity (`entities`, columns `ENTITY_COLUMNS`) and totals.

    Conversions and value are expected values of the fitted curve at the recommended spend, with the
    10%-90% band from the band curves. `marginal_cpa` is the cost of one more conversion at the
    recommended spend (infinite where the curve is flat). `binding` names what stops an entity from
    getting more or less: an entity bound ("max_change", "trust_high", "entity_max", "locked",
    "no_history", ...), a row ("campaign:NAME", "group:NAME", "cap", "target_cpa", ...) or "none".

    `cap_shadow_price` is the objective gained by one more unit of currency on the cap (from the LP
    dual; None without a cap). `relaxations` names each soft constraint (trust region, max change)
    that gave way to the cap or to a person's bounds, in the order they were relaxed.
    """

    entities: pd.DataFrame
    objective: str
    currency: str
    budget_micros: int | None
    total_micros: int
    current_total: float
    expected_conversions: float
    conversions_low: float
    conversions_high: float
    expected_value: float
    cap_shadow_price: float | None
    solver: str
    columns: int
    timings: Mapping[str, float]
    relaxations: tuple[Relaxation, ...] = ()

    @property
    def total_spend(self) -> float:
        return self.total_micros / MICROS

    @property
    def average_cpa(self) -> float:
        conversions = self.expected_conversions
        return self.total_spend / conversions if conversions > 0 else float("inf")

    @property
    def roas(self) -> float:
        return self.expected_value / self.total_spend if self.total_micros > 0 else 0.0

    def shadow_price_text(self) -> str:
        """E.g. "one more 1.00 EUR on the cap buys 0.042 conversions"."""
        if self.cap_shadow_price is None:
            return "no cap was set"
        unit = format_money(MICROS, self.currency)
        what = _OBJECTIVE_UNITS[self.objective]
        return f"one more {unit} on the cap buys {self.cap_shadow_price:.4g} {what}"

    def campaigns(self) -> pd.DataFrame:
        """Totals per campaign: current and recommended spend, conversions and value."""
        columns = ["current_spend", "recommended_spend", "expected_conversions", "expected_value"]
        return self.entities.groupby("campaign", sort=True)[columns].sum().reset_index()
