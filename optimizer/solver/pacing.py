"""From a monthly cap to one day's budget, safe against the platform's overdelivery.

`daily_budget` is the weekday-share rule, kept as the baseline the period plan
(`optimizer.solver.period`, which every door now uses) is measured against in `make bench`.

The rule, for the day being planned (`day`, usually tomorrow), with B = cap - month-to-date spend
and R the days left in the month including `day`:

1. Plan: B is spread over the R days in proportion to their weekday weights; `day` gets its share.
2. Guard: Google Ads may spend up to 2x a daily budget on one day (it only evens out to 30.4x the
   daily budget over a month). So the budget b must satisfy 2 b + (R - 1) * min_daily <= B: even if
   the day doubles its budget, what is left still pays the minimum daily budget of every later day.
   Re-planned every day from the actual month-to-date spend, this keeps the month's spend within
   the cap by induction, whatever the platform does on any day; the 30.4x billing limit is not
   relied on, because it bounds the monthly average, not the cap we promise.
3. The budget is min(plan, guard), rounded down to the currency's minor unit, never negative.

The guard only binds near the end of the month (with equal weights, from the second-to-last day): on
the last day half of what remains is budgeted, the price of never overshooting.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from optimizer.errors import InvalidInputError
from optimizer.money import floor_to_minor_unit, validate_currency
from optimizer.schema import MICROS
from optimizer.solver.text import amount

__all__ = ["OVERDELIVERY_FACTOR", "PacingPlan", "daily_budget"]

OVERDELIVERY_FACTOR = 2.0
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class PacingPlan:
    """The budget for `day` in micros, the figures behind it and a one-paragraph explanation."""

    day: dt.date
    daily_budget_micros: int
    remaining_micros: int
    remaining_days: int
    planned_micros: int
    guard_micros: int
    limited_by: Literal["plan", "overdelivery_guard", "cap_reached"]
    explanation: str
    forecast: tuple[tuple[dt.date, int], ...] = ()


def daily_budget(
    *,
    monthly_cap_micros: int,
    month_to_date_micros: int,
    day: dt.date,
    weekday_weights: Sequence[float],
    currency: str,
    min_daily_micros: int = 0,
    period_end: dt.date | None = None,
) -> PacingPlan:
    """The budget for `day`; `month_to_date_micros` is the spend of the month before `day`.

    `period_end` paces a cap over another period than the calendar month (a finance cap from
    `period_start` to `period_end`; the spend before `day` is then the period's).
    """
    currency = validate_currency(currency)
    weights = _checked_weights(weekday_weights)
    for value, name in (
        (monthly_cap_micros, "monthly cap"),
        (month_to_date_micros, "month-to-date spend"),
        (min_daily_micros, "minimum daily budget"),
    ):
        if value < 0:
            raise InvalidInputError(f"the {name} must not be negative")
    if period_end is None:
        remaining_days = calendar.monthrange(day.year, day.month)[1] - day.day + 1
    elif period_end < day:
        raise InvalidInputError(f"the cap's period ended on {period_end}, before {day}")
    else:
        remaining_days = (period_end - day).days + 1
    remaining = monthly_cap_micros - month_to_date_micros

    def money(micros: int) -> str:
        return amount(micros / MICROS, currency)

    if remaining <= 0:
        reached = (
            f"the month has spent {money(month_to_date_micros)} of its "
            f"{money(monthly_cap_micros)} cap, so {day:%A %d %B} gets no budget"
        )
        return PacingPlan(day, 0, remaining, remaining_days, 0, 0, "cap_reached", reached)
    days = [day + dt.timedelta(days=i) for i in range(remaining_days)]
    share = weights[day.weekday()] / math.fsum(weights[d.weekday()] for d in days)
    planned = int(remaining * share)
    reserve = (remaining_days - 1) * min_daily_micros
    guard = max(int((remaining - reserve) / OVERDELIVERY_FACTOR), 0)
    budget = floor_to_minor_unit(min(planned, guard), currency)
    limited_by: Literal["plan", "overdelivery_guard"] = (
        "plan" if planned <= guard else "overdelivery_guard"
    )
    reserve_text = (
        f" and {remaining_days - 1} later days keep {money(min_daily_micros)} each"
        if min_daily_micros and remaining_days > 1
        else ""
    )
    explanation = (
        f"{money(remaining)} of the {money(monthly_cap_micros)} cap is left for {remaining_days} "
        f"day(s); {_WEEKDAYS[day.weekday()]}'s weekday weight gives {day:%d %B} "
        f"{share:.1%} of it ({money(planned)}). The overdelivery guard (the platform may spend "
        f"{OVERDELIVERY_FACTOR:g}x a daily budget in one day{reserve_text}) allows at most "
        f"{money(guard)}, which "
        + ("binds" if limited_by == "overdelivery_guard" else "does not bind")
        + f": budget {money(budget)}."
    )
    return PacingPlan(
        day, budget, remaining, remaining_days, planned, guard, limited_by, explanation
    )


def _checked_weights(weights: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(w) for w in weights)
    if len(values) != 7:
        raise InvalidInputError(f"weekday weights need 7 factors (Monday first), got {len(values)}")
    if not all(math.isfinite(w) and w > 0 for w in values):
        raise InvalidInputError("weekday weights must be positive finite numbers")
    return values
