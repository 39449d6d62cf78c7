"""Daily pacing: weekday-weighted shares of what is left, unable to overshoot the monthly cap."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import InvalidInputError
from optimizer.solver import daily_budget

EUR = 1_000_000
FLAT = (1.0,) * 7


def _plan(day: dt.date, cap: int, spent: int, weights=FLAT, **kwargs):
    return daily_budget(
        monthly_cap_micros=cap,
        month_to_date_micros=spent,
        day=day,
        weekday_weights=weights,
        currency=kwargs.pop("currency", "EUR"),
        **kwargs,
    )


def test_mid_month_spreads_what_is_left_evenly() -> None:
    plan = _plan(dt.date(2026, 4, 11), cap=3000 * EUR, spent=1000 * EUR)
    assert plan.remaining_days == 20
    assert plan.daily_budget_micros == 100 * EUR
    assert plan.limited_by == "plan"
    assert "2,000.00 of the 3,000.00 cap is left for 20 day(s)" in plan.explanation


def test_weekday_weights_shift_the_share() -> None:
    weights = (1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0)
    saturday = _plan(dt.date(2026, 4, 25), cap=1000 * EUR, spent=0, weights=weights)
    monday = _plan(dt.date(2026, 4, 27), cap=1000 * EUR, spent=0, weights=weights)
    assert saturday.remaining_days == 6
    assert saturday.daily_budget_micros == pytest.approx(1000 * EUR * 2 / 8, abs=10_000)
    assert monday.daily_budget_micros == pytest.approx(1000 * EUR / 4, abs=10_000)


def test_last_day_budgets_half_of_what_is_left() -> None:
    plan = _plan(dt.date(2026, 4, 30), cap=1000 * EUR, spent=900 * EUR)
    assert plan.planned_micros == 100 * EUR
    assert plan.daily_budget_micros == 50 * EUR
    assert plan.limited_by == "overdelivery_guard"
    assert "binds" in plan.explanation


def test_minimum_daily_budget_is_reserved_for_later_days() -> None:
    plan = _plan(dt.date(2026, 4, 28), cap=1000 * EUR, spent=900 * EUR, min_daily_micros=30 * EUR)
    assert plan.guard_micros == (100 - 2 * 30) * EUR // 2
    assert plan.daily_budget_micros == 20 * EUR


def test_cap_reached_means_zero() -> None:
    plan = _plan(dt.date(2026, 4, 20), cap=1000 * EUR, spent=1001 * EUR)
    assert plan.daily_budget_micros == 0
    assert plan.limited_by == "cap_reached"


def test_amounts_round_down_to_the_minor_unit() -> None:
    plan = _plan(dt.date(2026, 4, 29), cap=1000 * EUR, spent=0, currency="JPY")
    assert plan.daily_budget_micros % EUR == 0
    plan = _plan(dt.date(2026, 4, 1), cap=1000 * EUR, spent=0)
    assert plan.daily_budget_micros == 33_330_000


@pytest.mark.parametrize(
    "weights",
    [(1.0,) * 6, (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0), (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, float("nan"))],
    ids=["six", "zero", "nan"],
)
def test_bad_weights_are_refused(weights) -> None:
    with pytest.raises(InvalidInputError, match="weekday weights"):
        _plan(dt.date(2026, 4, 1), cap=1000 * EUR, spent=0, weights=weights)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.2, 5.0), min_size=7, max_size=7),
    st.integers(1, 12),
    st.integers(100, 10**7),
    st.lists(st.floats(0.0, 2.0), min_size=31, max_size=31),
)
def test_a_month_of_worst_case_overdelivery_stays_within_the_cap(
    weights, month, cap_units, delivery
) -> None:
    """Whatever the platform spends on a day (0x..2x its budget), the month ends within the cap."""
    cap = cap_units * EUR
    spent = 0
    days = calendar.monthrange(2026, month)[1]
    for day_number in range(1, days + 1):
        plan = _plan(dt.date(2026, month, day_number), cap=cap, spent=spent, weights=weights)
        spent += int(plan.daily_budget_micros * delivery[day_number - 1])
        assert spent <= cap
