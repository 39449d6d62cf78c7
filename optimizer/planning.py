"""From fitted curves and a request to a plan for one day: pacing a period cap, then the LP.

Pure core, shared by every door: the CLI's `--data FILE` path, the stored-account use cases, the API
and the nightly job all plan through `plan_day`, so a budget is computed the same way everywhere.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InvalidInputError
from optimizer.models import CurveSet
from optimizer.models.events import Event, planned_lift
from optimizer.schema import MICROS
from optimizer.solver import (
    Allocation,
    AllocationRequest,
    Frontier,
    PacingPlan,
    allocate,
    budget_frontier,
    period_budget,
)

__all__ = [
    "DayPlan",
    "month_to_date_micros",
    "paced",
    "pacing_weights",
    "period_days",
    "period_multipliers",
    "plan_day",
    "plan_frontier",
]


@dataclass(frozen=True, eq=False)
class DayPlan:
    """The allocation for `day`, the pacing that set its budget when a monthly cap was given,
    (`basis`) where the budget came from when the caller gave none, and the curve set's band
    calibration (`band_scale`), which the plan's likely ranges use."""

    day: dt.date
    allocation: Allocation
    pacing: PacingPlan | None
    basis: str = ""
    band_scale: float = 1.0


def pacing_weights(curve_set: CurveSet) -> tuple[float, ...]:
    """The account's day-of-week profile: campaigns' factors weighted by their current spend."""
    spend = np.array([c.current_spend for c in curve_set], dtype=np.float64)
    if len(spend) == 0 or spend.sum() <= 0:
        return (1.0,) * 7
    profiles = np.array([c.dow for c in curve_set], dtype=np.float64)
    weights = spend @ profiles / spend.sum()
    return tuple(float(w) for w in weights / weights.mean())


def period_days(day: dt.date, period_end: dt.date | None) -> list[dt.date]:
    """`day` up to the period's end (the month's end when None), both included."""
    if period_end is None:
        period_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period_end < day:
        raise InvalidInputError(f"the cap's period ended on {period_end}, before {day}")
    return [day + dt.timedelta(days=i) for i in range((period_end - day).days + 1)]


def period_multipliers(
    curve_set: CurveSet, days: Sequence[dt.date], events: Sequence[Event] = ()
) -> npt.NDArray[np.float64]:
    """Each day's calendar factor (weekday x trend x a planned promotion's stated lift) per
    entity: rows are days."""
    curves = list(curve_set)
    dow = np.array([c.dow for c in curves], dtype=np.float64).reshape(len(curves), 7)
    tau = np.array([c.tau for c in curves], dtype=np.float64)
    reference = np.array([c.reference_date.toordinal() for c in curves], dtype=np.float64)
    weekday = np.array([d.weekday() for d in days])
    ordinal = np.array([d.toordinal() for d in days], dtype=np.float64)
    factors = dow[:, weekday].T * np.exp(tau[None, :] * (ordinal[:, None] - reference[None, :]))
    factors = factors * planned_lift(events, days)[:, None]
    return np.asarray(factors, dtype=np.float64)


def paced(
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    *,
    cap_micros: int,
    spent_micros: int,
    period_end: dt.date | None,
    events: Sequence[Event] = (),
) -> PacingPlan:
    """Tomorrow's budget under a period cap from the period plan over the days left (`events`:
    the account's confirmed events; promotions with a stated lift weigh their days)."""
    days = period_days(day, period_end)
    return period_budget(
        curve_set.table(day),
        period_multipliers(curve_set, days, events),
        days,
        dataclasses.replace(request, budget_micros=None),
        cap_micros=cap_micros,
        spent_micros=spent_micros,
    )


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
    events: Sequence[Event] = (),
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
        for value, name in ((monthly_cap_micros, "monthly cap"), (month_to_date_micros, "spend")):
            if value < 0:
                raise InvalidInputError(f"the {name} must not be negative")
        pacing = paced(
            curve_set,
            request,
            day,
            cap_micros=monthly_cap_micros,
            spent_micros=month_to_date_micros,
            period_end=period_end,
            events=events,
        )
        request = dataclasses.replace(request, budget_micros=pacing.daily_budget_micros)
    allocation = allocate(curve_set.table(day), request)
    return DayPlan(day, allocation, pacing, band_scale=curve_set.band_scale)


def plan_frontier(
    curve_set: CurveSet,
    request: AllocationRequest,
    day: dt.date,
    budgets_micros: Sequence[int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Frontier:
    """What each total budget would buy on `day` (50%..200% of current spend by default)."""
    if len(curve_set) == 0:
        raise InvalidInputError("there are no fitted curves to optimise")
    return budget_frontier(curve_set.table(day), request, budgets_micros, should_stop)
