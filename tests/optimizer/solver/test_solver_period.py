"""The period plan: what is left of the cap, split over the days left by each day's curves; exact
against HiGHS on the same LP at entity level, within the cap and every night's guard, and
monotone in the money left."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from solver_helpers import random_table

from optimizer.solver import AllocationRequest, period_budget, plan_period
from optimizer.solver.backends import open_session
from optimizer.solver.curves import EntityCurves
from optimizer.solver.model import LinearProgram, RowInfo
from optimizer.solver.period import PERIOD_SEGMENTS
from optimizer.solver.segments import build_segments
from tests.optimizer.solver.solver_helpers import to_micros

START = dt.date(2026, 12, 1)
REQUEST = AllocationRequest(currency="EUR")


def _days(count: int) -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range(count)]


def _weekly(n: int, days: list[dt.date], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    profile = rng.uniform(0.6, 1.4, (n, 7))
    return np.array([profile[:, d.weekday()] for d in days])


def _lp_optimum(table, weights: np.ndarray, remaining: float) -> float:
    """The period LP at entity level (cap, and each night's guard on what the days before left),
    solved by HiGHS, as an independent check of the day-totals method."""
    curves = EntityCurves.from_table(table.assign(multiplier=1.0))
    n, count = len(table), weights.shape[0]
    upper = table["trust_high"].to_numpy()
    seg = build_segments(curves, np.zeros(n), upper, tolerance=0.001, max_segments=PERIOD_SEGMENTS)
    m = len(seg)
    costs = (seg.gain[None, :] * weights[:, seg.owner]).ravel()
    day_of = np.repeat(np.arange(count), m)
    lengths = np.tile(seg.length, count)
    rows = [np.ones(count * m)] + [
        np.where(day_of == d, 2.0, np.where(day_of < d, 1.0, 0.0)) for d in range(count)
    ]
    matrix = sp.csc_array(np.array(rows) * lengths[None, :])
    program = LinearProgram(
        costs=costs, offset=0.0, matrix=matrix, row_lower=np.full(count + 1, -np.inf),
        row_upper=np.full(count + 1, remaining), rows=(RowInfo("cap", "cap", None),) * (count + 1),
    )  # fmt: skip
    return float(costs @ open_session(program, "highs").solve().values)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 12),
    count=st.integers(2, 20),
    share=st.floats(0.05, 1.5),
)
def test_the_period_plan_is_the_lp_optimum_within_cap_and_guards(seed, n, count, share) -> None:
    table = random_table(n, seed, trust=(0.0, 3.0)).assign(trust_low=0.0)
    days = _days(count)
    weights = _weekly(n, days, seed)
    remaining = to_micros(float(table["current_spend"].sum()) * count * share)
    plan = plan_period(table, weights, days, REQUEST, remaining_micros=remaining)
    assert plan.total_micros <= remaining
    assert plan.daily_micros[0] <= remaining / 2
    assert all(v >= 0 and v % 10_000 == 0 for v in plan.daily_micros)
    path = np.cumsum((0, *plan.daily_micros))
    assert all(2 * v <= remaining - path[d] + 10_000 for d, v in enumerate(plan.daily_micros))
    best = _lp_optimum(table, weights, remaining / 1e6)
    assert sum(plan.expected) == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_more_money_left_never_gives_tomorrow_less() -> None:
    table = random_table(40, 5, trust=(0.0, 3.0)).assign(trust_low=0.0)
    days = _days(20)
    weights = _weekly(40, days, 5)
    current = to_micros(float(table["current_spend"].sum()))
    firsts = [
        plan_period(table, weights, days, REQUEST, remaining_micros=current * k).daily_micros[0]
        for k in (1, 3, 6, 10, 15, 20, 30)
    ]
    assert firsts == sorted(firsts) and firsts[0] < firsts[-1]


def test_money_goes_to_the_days_that_buy_more() -> None:
    table = random_table(30, 8, trust=(0.0, 3.0)).assign(trust_low=0.0)
    days = _days(14)
    strong = np.array([1.5 if d.weekday() >= 5 else 0.8 for d in days])
    weights = np.repeat(strong[:, None], 30, axis=1)
    remaining = to_micros(float(table["current_spend"].sum()) * 14 * 0.5)
    plan = plan_period(table, weights, days, REQUEST, remaining_micros=remaining)
    weekend = [v for d, v in zip(days, plan.daily_micros, strict=True) if d.weekday() >= 5]
    weekdays = [v for d, v in zip(days, plan.daily_micros, strict=True) if d.weekday() < 5]
    assert min(weekend) > max(weekdays)


def test_a_spent_period_gets_no_budget_and_says_so() -> None:
    table = random_table(5, 1)
    days = _days(5)
    plan = period_budget(table, np.ones((5, 5)), days, REQUEST, cap_micros=to_micros(100.0),
                         spent_micros=to_micros(100.0))  # fmt: skip
    assert plan.daily_budget_micros == 0 and plan.limited_by == "cap_reached"
    assert "gets no budget" in plan.explanation


def test_the_forecast_path_is_published_with_tomorrow_first() -> None:
    table = random_table(20, 2, trust=(0.0, 3.0))
    days = _days(9)
    plan = period_budget(table, _weekly(20, days, 2), days, REQUEST,
                         cap_micros=to_micros(5000.0), spent_micros=to_micros(1000.0))  # fmt: skip
    assert [d for d, _ in plan.forecast] == days
    assert plan.forecast[0][1] == plan.daily_budget_micros
    assert sum(v for _, v in plan.forecast) <= to_micros(4000.0)
    assert "the period plan" in plan.explanation
