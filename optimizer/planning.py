"""From fitted curves and a request to a plan for one day: pacing a monthly cap, then the LP.

Pure core, shared by every door: the CLI's `--data FILE` path, the stored-account use cases, the API
and the nightly job all plan through `plan_day`, so a budget is computed the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.models import CurveSet
from optimizer.schema import MICROS
from optimizer.solver import (
    Allocation,
    AllocationRequest,
    Frontier,
    PacingPlan,
    allocate,
    budget_frontier,
    daily_budget,
)

__all__ = [
    "DayPlan",
    "month_to_date_micros",
    "pacing_weights",
    "plan_day",
    "plan_frontier",
]


@dataclass(frozen=True, eq=False)
class DayPlan:
    """The allocation for `day`, and the pacing that set its budget when a monthly cap was given."""

    day: dt.date
    allocation: Allocation
    pacing: PacingPlan | None


def pacing_weights(curve_set: CurveSet) -> tuple[float, ...]:
    """The account's day-of-week profile: campaigns' factors weighted by their current spend."""
    spend = np.array([c.current_spend for c in curve_set], dtype=np.float64)
    if len(spend) == 0 or spend.sum() <= 0:
        return (1.0,) * 7
    profiles = np.array([c.dow for c in curve_set], dtype=np.float64)
    weights = spend @ profiles / spend.sum()
    return tuple(float(w) for w in weights / weights.mean())


def month_to_date_micros(history: pd.DataFrame, day: dt.date) -> int:
    """Spend booked in `day`'s month before `day`, from a model-shaped history frame."""
    dates = pd.to_datetime(history["date"]).dt.date
    in_month = (dates >= day.replace(day=1)) & (dates < day)
    spend = history.loc[in_month, "spend"].to_numpy(dtype=np.float64)
    return int(np.round(spend * MICROS).astype(np.int64).sum())


def plan_day(
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    *,
    monthly_cap_micros: int | None = None,
    month_to_date_micros: int = 0,
    period_end: dt.date | None = None,
) -> DayPlan:
    """Allocate `day`'s budget: the request's daily budget, or the paced share of a monthly cap.

    With `period_end`, the cap is paced to that day instead of the month's end (and
    `month_to_date_micros` is the spend of the cap's period before `day`).
    """
    if len(curve_set) == 0:
        raise InvalidInputError("there are no fitted curves to optimise")
    pacing = None
    if monthly_cap_micros is not None:
        if request.budget_micros is not None:
            raise InvalidInputError("give either a daily budget or a monthly cap, not both")
        pacing = daily_budget(
            monthly_cap_micros=monthly_cap_micros,
            month_to_date_micros=month_to_date_micros,
            day=day,
            weekday_weights=pacing_weights(curve_set),
            currency=request.currency,
            period_end=period_end,
        )
        request = dataclasses.replace(request, budget_micros=pacing.daily_budget_micros)
    return DayPlan(day, allocate(curve_set.table(day), request), pacing)


def plan_frontier(
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    budgets_micros: Sequence[int] | None = None,
) -> Frontier:
    """What each total budget would buy on `day` (50%..200% of current spend by default)."""
    if len(curve_set) == 0:
        raise InvalidInputError("there are no fitted curves to optimise")
    return budget_frontier(curve_set.table(day), request, budgets_micros)
