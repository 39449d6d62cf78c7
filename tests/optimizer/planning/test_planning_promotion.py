"""A promotion known before the period (issue 17): the period plan moves money toward its days
and away from a stock-out, within the cap; the weekday share could not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from optimizer.models import CurveSet
from optimizer.models.events import Event
from optimizer.planning import paced, plan_day
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest

_DAYS = 31


def _period(curves: CurveSet) -> tuple[dt.date, dt.date, int]:
    start = curves.window_end + dt.timedelta(days=1)
    end = start + dt.timedelta(days=_DAYS - 1)
    current = float(curves.table(start)["current_spend"].sum())
    return start, end, round(current * _DAYS * 0.8 * MICROS)


def _tomorrow(curves: CurveSet, events: tuple[Event, ...]) -> int:
    start, end, cap = _period(curves)
    plan = paced(
        curves,
        AllocationRequest(currency="EUR"),
        start,
        cap_micros=cap,
        spent_micros=0,
        period_end=end,
        events=events,
    )
    assert plan.forecast and sum(micros for _, micros in plan.forecast) <= cap
    return plan.daily_budget_micros


@pytest.mark.parametrize(
    ("offset", "lift", "direction"),
    [
        pytest.param(0, 1.5, 1, id="promotion-tomorrow-gets-more"),
        pytest.param(10, 1.5, -1, id="promotion-later-saves-tomorrow"),
        pytest.param(0, 0.3, -1, id="stock-out-tomorrow-gets-less"),
        pytest.param(10, 0.3, 1, id="stock-out-later-gives-tomorrow-more"),
    ],
)
def test_a_stated_lift_moves_money_between_the_periods_days(
    small_fit, offset, lift, direction
) -> None:
    curves, _ = small_fit
    start, _, _ = _period(curves)
    first = start + dt.timedelta(days=offset)
    event = Event(first, first + dt.timedelta(days=4), "promo", lift)
    plain = _tomorrow(curves, ())
    assert (_tomorrow(curves, (event,)) - plain) * direction > 0
    assert _tomorrow(curves, (dataclasses.replace(event, lift=None),)) == plain


def test_a_promotion_without_a_cap_changes_no_daily_budget(small_fit) -> None:
    curves, _ = small_fit
    start, _, _ = _period(curves)
    request = AllocationRequest(currency="EUR", budget_micros=100 * MICROS)
    event = Event(start, start, "promo", 2.0)
    plain = plan_day(curves, request, start)
    promoted = plan_day(curves, request, start, events=(event,))
    assert promoted.allocation.total_micros == plain.allocation.total_micros


@pytest.mark.parametrize("limit", [0.3, 0.1], ids=["up-30-percent", "up-10-percent"])
def test_after_a_planned_dip_the_forecast_ramps_up_no_faster_than_the_policy(
    small_fit, limit
) -> None:
    """A stock-out on days 4-6 cuts those days; the days after climb back at most `limit` a day
    (day totals; each applied day's entities are held to it by the nightly bounds)."""
    curves, _ = small_fit
    start, end, cap = _period(curves)
    stock_out = Event(start + dt.timedelta(days=3), start + dt.timedelta(days=5), "promo", 0.1)

    def path(request: AllocationRequest) -> list[int]:
        plan = paced(curves, request, start, cap_micros=cap, spent_micros=0, period_end=end,
                     events=(stock_out,))  # fmt: skip
        return [micros for _, micros in plan.forecast]

    free = path(AllocationRequest(currency="EUR"))
    assert max(b / a for a, b in itertools.pairwise(free) if a > 0) > 1 + limit
    held = path(AllocationRequest(currency="EUR", max_increase=limit))
    cent = 10_000
    assert all(b <= (1 + limit) * a + cent for a, b in itertools.pairwise(held))
    current = round(float(curves.table(start)["current_spend"].sum()) * 1_000_000)
    assert held[0] <= (1 + limit) * current + cent
