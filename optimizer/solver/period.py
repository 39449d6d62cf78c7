"""Pacing as one LP over the rest of the cap's period: how much of what is left to spend tomorrow.

A column per curve segment per day: each day's curve is the fitted curve times that day's
calendar factor (weekday x trend), so money moves to the days and entities where it buys most.
Rows: the period's remaining cap over all days, and the overdelivery guard each night will apply:
the platform may spend `OVERDELIVERY_FACTOR` x a daily budget in one day, so day d's budget is at
most what is left after the days before it over that factor (2 T_d + sum of T_k, k < d <= what is
left now). Re-planned every night from actual spend, the period never exceeds the cap; and the
plan sees the last days' guards coming instead of discovering them on the last day.

Solved in two steps that are exact for this LP: each day's best value for a day total T is
concave and piecewise linear (its segments in order of value per unit of spend); cut to
`_DAY_PIECES` chords, the day totals come from a small LP over days (`_day_totals`), and each day
is then filled in that order.

Day-to-day change limits: each night's plan is bounded by the policy's change limits from current
spend, per entity. Inside the forecast path the upward limit (`max_increase`, or `max_change`)
holds between consecutive day totals (day 1 against current spend): after a planned dip (a
stock-out) the plan ramps back up no faster than the policy lets the applied budgets. Per entity
and day these rows took 107 s for 1,000 entities x 31 days (bench, issue 17's note); on day
totals they cost nothing measurable.

Every day's upper bounds are the request's (trust region, max change from current spend, a
person's maximum): the nightly re-plan will hold each applied day to them, so a forecast that
counted on more would starve tomorrow for days that cannot take the money. Floors are only a
person's minimums and locks (trust and change floors are tomorrow's allocation's to keep or relax).
S-shaped entry chords are plain segments here: the period plan sets daily totals; tomorrow's own
allocation (`allocate`) splits its total exactly.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.curve_table import validate_curve_table
from optimizer.errors import InvalidInputError
from optimizer.money import minor_unit_micros
from optimizer.schema import MICROS
from optimizer.solver.backends import open_session
from optimizer.solver.bounds import EntityBounds, entity_bounds
from optimizer.solver.curves import EntityCurves, FloatArray, IntArray
from optimizer.solver.model import LinearProgram, RowInfo
from optimizer.solver.options import AllocationRequest
from optimizer.solver.pacing import OVERDELIVERY_FACTOR, PacingPlan
from optimizer.solver.segments import build_segments
from optimizer.solver.text import amount

__all__ = ["PERIOD_SEGMENTS", "PeriodPlan", "period_budget", "plan_period"]

PERIOD_SEGMENTS = 24
"""Segments per entity and day, as the day's allocation uses."""
_DAY_PIECES = 512
_SMALL_LP = {"solver": "simplex", "presolve": "on"}


@dataclass(frozen=True, eq=False)
class PeriodPlan:
    """Planned spend per day (micros, floored to the minor unit) and expected conversions per day.

    `daily_micros[0]` is tomorrow's budget; `guard_binds` says whether the overdelivery guard held
    it below what the plan would otherwise spend tomorrow.
    """

    days: tuple[dt.date, ...]
    daily_micros: tuple[int, ...]
    expected: tuple[float, ...]
    remaining_micros: int
    guard_micros: int
    guard_binds: bool
    solve_seconds: float

    @property
    def total_micros(self) -> int:
        return sum(self.daily_micros)


@dataclass(frozen=True, eq=False)
class _Problem:
    """The period LP's data: columns are (day, segment) pairs, day-major."""

    costs: FloatArray
    owner: IntArray
    length: FloatArray
    entities: int
    floor_total: float
    remaining: float
    current_total: float = 0.0

    @property
    def days(self) -> int:
        return int(self.costs.shape[0])

    def guard_room(self, day: int) -> float:
        """The right-hand side of day `day`'s guard row, in spend above the floors."""
        return self.remaining - (day + OVERDELIVERY_FACTOR) * self.floor_total


def plan_period(
    table: pd.DataFrame,
    multipliers: FloatArray,
    days: Sequence[dt.date],
    request: AllocationRequest,
    *,
    remaining_micros: int,
) -> PeriodPlan:
    """Split `remaining_micros` over `days` (rows of `multipliers`, one column per entity)."""
    started = time.perf_counter()
    table = validate_curve_table(table).reset_index(drop=True)
    weights = np.asarray(multipliers, dtype=np.float64)
    n, count = len(table), len(days)
    if count == 0 or weights.shape != (count, n):
        raise InvalidInputError(f"need one multiplier per day and entity, got {weights.shape}")
    unit = minor_unit_micros(request.currency)
    guard_micros = max(int(remaining_micros / OVERDELIVERY_FACTOR) // unit * unit, 0)
    if remaining_micros <= 0:
        zero = tuple(0 for _ in days)
        return PeriodPlan(tuple(days), zero, tuple(0.0 for _ in days), remaining_micros, 0, False,
                          time.perf_counter() - started)  # fmt: skip
    bounds = entity_bounds(table, request, unit)
    floor = _floors(bounds)
    curves = EntityCurves.from_table(table.assign(multiplier=1.0))
    segments = build_segments(
        curves, floor, bounds.upper, tolerance=request.tolerance, max_segments=PERIOD_SEGMENTS
    )
    problem = _Problem(
        costs=_costs(request, table, segments.owner, segments.gain, segments.length, weights),
        owner=segments.owner,
        length=segments.length,
        entities=n,
        floor_total=float(floor.sum()),
        remaining=remaining_micros / MICROS,
        current_total=float(table["current_spend"].sum()),
    )
    if min(problem.guard_room(d) for d in range(count)) < 0:
        raise InvalidInputError("the bounds a person set need more than what is left of the cap")
    values = _by_day_totals(problem, request)
    fills = values.reshape(count, -1) * segments.length[None, :]
    spend = np.stack([segments.entity_totals(row, n) for row in fills]) + floor[None, :]
    share = values.reshape(count, -1)
    expected = (share * segments.gain[None, :] * weights[:, segments.owner]).sum(axis=1)
    expected = expected + (weights * curves.value(floor)[None, :]).sum(axis=1)
    daily = np.floor(np.round(spend.sum(axis=1) * MICROS) / unit).astype(np.int64) * unit
    daily[0] = min(int(daily[0]), guard_micros)
    return PeriodPlan(
        days=tuple(days),
        daily_micros=tuple(int(v) for v in daily),
        expected=tuple(float(v) for v in expected),
        remaining_micros=remaining_micros,
        guard_micros=guard_micros,
        guard_binds=bool(fills[0].sum() >= problem.guard_room(0) / 2 * (1 - 1e-6)),
        solve_seconds=time.perf_counter() - started,
    )


def period_budget(
    table: pd.DataFrame,
    multipliers: FloatArray,
    days: Sequence[dt.date],
    request: AllocationRequest,
    *,
    cap_micros: int,
    spent_micros: int,
) -> PacingPlan:
    """Tomorrow's (`days[0]`) budget from the period plan, with the forecast path and the words
    that explain it; `spent_micros` is what the period has spent (or is counted to have spent)."""
    remaining = cap_micros - spent_micros
    day = days[0]

    def money(micros: int) -> str:
        return amount(micros / MICROS, request.currency)

    if remaining <= 0:
        reached = (
            f"the period has spent {money(spent_micros)} of its {money(cap_micros)} cap, so "
            f"{day:%A %d %B} gets no budget"
        )
        return PacingPlan(day, 0, remaining, len(days), 0, 0, "cap_reached", reached)
    plan = plan_period(table, multipliers, days, request, remaining_micros=remaining)
    budget = plan.daily_micros[0]
    limited_by: Literal["plan", "overdelivery_guard"] = (
        "overdelivery_guard" if plan.guard_binds else "plan"
    )
    explanation = (
        f"{money(remaining)} of the {money(cap_micros)} cap is left for {len(days)} day(s); the "
        f"period plan (each day's curves with its weekday and trend) spends {money(budget)} on "
        f"{day:%d %B} and {money(plan.total_micros - budget)} on the days after. The "
        f"overdelivery guard (the platform may spend {OVERDELIVERY_FACTOR:g}x a daily budget in "
        f"one day) allows at most {money(plan.guard_micros)}, which "
        + ("binds" if plan.guard_binds else "does not bind")
        + f": budget {money(budget)}."
    )
    return PacingPlan(
        day,
        budget,
        remaining,
        len(days),
        budget,
        plan.guard_micros,
        limited_by,
        explanation,
        forecast=tuple(zip(plan.days, plan.daily_micros, strict=True)),
    )


def _floors(bounds: EntityBounds) -> FloatArray:
    chosen = np.isin(bounds.lower_source, ["entity_min", "locked"])
    return np.asarray(np.where(chosen, bounds.lower, 0.0), dtype=np.float64)


def _costs(
    request: AllocationRequest,
    table: pd.DataFrame,
    owner: IntArray,
    gain: FloatArray,
    length: FloatArray,
    weights: FloatArray,
) -> FloatArray:
    """The objective per (day, segment): the segment's gain on that day's curve."""
    value = table["value_per_conversion"].to_numpy(dtype=np.float64)
    per_unit = value[owner] if request.objective in ("value", "profit") else 1.0
    costs = (gain * per_unit)[None, :] * weights[:, owner]
    if request.objective == "profit":
        costs = costs * float(request.margin or 0.0) - length[None, :]
    result: FloatArray = np.asarray(costs, dtype=np.float64)
    return result


def _by_day_totals(problem: _Problem, request: AllocationRequest) -> FloatArray:
    """Day totals from the small LP over each day's value curve, then each day filled in order."""
    count = problem.days
    orders, pieces = [], []
    for day in range(count):
        ratio = problem.costs[day] / problem.length
        order = np.argsort(-ratio, kind="stable")
        order = order[ratio[order] > 0]
        orders.append(order)
        spend = np.cumsum(problem.length[order])
        if spend.size == 0:
            pieces.append((np.zeros(0), np.zeros(0)))
            continue
        gain = np.cumsum(problem.costs[day][order])
        if spend.size <= _DAY_PIECES:
            marks = np.arange(spend.size)
        else:
            wanted = np.linspace(0.0, spend[-1], _DAY_PIECES + 1)[1:] - 1e-12
            marks = np.unique(np.minimum(np.searchsorted(spend, wanted), spend.size - 1))
        pieces.append(
            (np.diff(np.concatenate([[0.0], spend[marks]])),
             np.diff(np.concatenate([[0.0], gain[marks]])))
        )  # fmt: skip
    totals = _day_totals(problem, pieces, request)
    values = np.zeros((count, len(problem.length)))
    for day, order in enumerate(orders):
        length = problem.length[order]
        taken = np.clip(totals[day] - (np.cumsum(length) - length), 0.0, length)
        values[day, order] = taken / length
    return values.ravel()


_Triplets = tuple[list[IntArray], list[IntArray], list[FloatArray]]


def _guard_rows(count: int, first_row: int, total_columns: IntArray) -> _Triplets:
    """Each day's guard row over day-total columns: 2 T_d + sum(T_k, k < d)."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    coefs: list[FloatArray] = []
    for day in range(count):
        rows.append(np.full(day + 1, first_row + day))
        cols.append(total_columns[: day + 1])
        coefs.append(np.where(np.arange(day + 1) == day, OVERDELIVERY_FACTOR, 1.0))
    return rows, cols, coefs


def _upward_limit(request: AllocationRequest) -> float | None:
    limits = [v for v in (request.max_change, request.max_increase) if v is not None]
    return min(limits) if limits else None


def _ramp_rows(count: int, first_row: int, total_columns: IntArray, up: float) -> _Triplets:
    """Day totals rise at most `up` a day: T_0 <= (1 + up) x current (the row's bound), and
    T_d - (1 + up) T_(d-1) <= up x floors for the later days (totals are above the floors)."""
    rows: list[IntArray] = [np.array([first_row])]
    cols: list[IntArray] = [total_columns[:1]]
    coefs: list[FloatArray] = [np.ones(1)]
    for day in range(1, count):
        rows.append(np.full(2, first_row + day))
        cols.append(total_columns[day - 1 : day + 1])
        coefs.append(np.array([-(1 + up), 1.0]))
    return rows, cols, coefs


def _day_totals(
    problem: _Problem, pieces: list[tuple[FloatArray, FloatArray]], request: AllocationRequest
) -> FloatArray:
    count = problem.days
    sizes = [len(p[0]) for p in pieces]
    lengths = np.concatenate([p[0] for p in pieces])
    if lengths.size == 0:
        return np.zeros(count)
    day_of = np.repeat(np.arange(count), sizes)
    width = lengths.size
    totals = width + np.arange(count)
    rows = [day_of, np.arange(count), np.full(count, count)]
    cols = [np.arange(width), totals, totals]
    coefs = [lengths, -np.ones(count), np.ones(count)]
    guard_rows, guard_cols, guard_coefs = _guard_rows(count, count + 1, totals)
    rows, cols, coefs = rows + guard_rows, cols + guard_cols, coefs + guard_coefs
    upper = [0.0] * count + [problem.remaining - count * problem.floor_total]
    upper += [problem.guard_room(d) for d in range(count)]
    lower = [0.0] * count + [-np.inf] * (count + 1)
    up = _upward_limit(request)
    if up is not None:
        ramp_rows, ramp_cols, ramp_coefs = _ramp_rows(count, len(upper), totals, up)
        rows, cols, coefs = rows + ramp_rows, cols + ramp_cols, coefs + ramp_coefs
        floor = problem.floor_total
        upper += [(1 + up) * problem.current_total - floor] + [up * floor] * (count - 1)
        lower += [-np.inf] * count
    program = LinearProgram(
        costs=np.concatenate([np.concatenate([p[1] for p in pieces]), np.zeros(count)]),
        offset=0.0,
        matrix=sp.csc_array(
            (np.concatenate(coefs), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(upper), width + count),
        ),
        row_lower=np.asarray(lower),
        row_upper=np.maximum(np.asarray(upper), 0.0),
        rows=tuple(RowInfo("period", "period", None) for _ in upper),
        col_lower=np.zeros(width + count),
        col_upper=np.concatenate([np.ones(width), np.full(count, np.inf)]),
    )
    solution = open_session(program, request.solver, highs_options=_SMALL_LP).solve()
    filled = solution.values[:width] * lengths
    return np.bincount(day_of, weights=filled, minlength=count).astype(np.float64)
