"""Tomorrow's budget under every approved cap covering it, counting spend not yet reported.

The store's spend ends on the last day an export or script reported; the ad platform kept spending
after it. Each day between the last reported day and the planned day is counted, for the cap's
arithmetic, at the most the platform could have spent on it: the overdelivery factor times the
budget ppcopt published for that day (so the pacing guard's induction still holds with late
data), or, where no plan was published, the account's mean daily spend over its last reported
fortnight (an estimate: ppcopt cannot bound budgets it did not set). The expected figure (the
plan's budget, or the mean) is shown beside it as "estimated, not yet reported". While any day
is estimated the budget never rises above current spend: spend is not raised on an estimate.

Every approved cap covering the day applies, each paced over its own period; the tightest binds.
A confirmed promotion with a stated lift inside a cap's remaining days weighs those days in its
period plan, and the plan says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from optimizer.errors import ConflictError
from optimizer.models import CurveSet
from optimizer.models.events import Event
from optimizer.money import floor_to_minor_unit, format_money
from optimizer.planning import paced
from optimizer.solver import OVERDELIVERY_FACTOR, AllocationRequest, PacingPlan
from optimizer.store.performance import spend_between
from optimizer.store.tables import performance, recommendations
from optimizer.usecases.accounts import Account
from optimizer.usecases.caps import Cap, caps_covering
from optimizer.usecases.events import confirmed_events

__all__ = ["CapBudget", "CapSpend", "UnreportedDay", "cap_budget", "cap_spend", "unreported_days"]

_RECENT_DAYS = 14


@dataclass(frozen=True, slots=True)
class UnreportedDay:
    """A day the platform spent on that no report has reached yet."""

    day: dt.date
    expected_micros: int
    reserved_micros: int
    source: str


@dataclass(frozen=True, slots=True)
class CapSpend:
    """A cap's period so far: reported spend and the unreported days counted against it."""

    cap: Cap
    reported_micros: int
    unreported: tuple[UnreportedDay, ...]

    @property
    def counted_micros(self) -> int:
        return self.reported_micros + sum(u.reserved_micros for u in self.unreported)


@dataclass(frozen=True, slots=True)
class CapBudget:
    """The day's budget: the tightest cap's pacing, and what the plan must say about it."""

    budget_micros: int
    cap: Cap
    pacing: PacingPlan | None
    explanation: str
    cap_reached: bool
    estimated: tuple[UnreportedDay, ...]
    notes: tuple[str, ...]


def unreported_days(connection: Connection, account: Account, day: dt.date) -> list[UnreportedDay]:
    """Days after the last reported one and before `day`, each with its expected and worst spend."""
    last = connection.execute(
        select(func.max(performance.c.date)).where(
            performance.c.account_id == account.id, performance.c.date < day
        )
    ).scalar_one()
    if last is None:
        return []
    missing = [last + dt.timedelta(days=i) for i in range(1, (day - last).days)]
    if not missing:
        return []
    planned = _planned_totals(connection, account.id, missing)
    mean = _recent_mean(connection, account.id, last)
    days = []
    for gap in missing:
        if gap in planned:
            total = planned[gap]
            days.append(
                UnreportedDay(gap, total, int(total * OVERDELIVERY_FACTOR), "published plan")
            )
        else:
            days.append(UnreportedDay(gap, mean, mean, "recent daily mean"))
    return days


def cap_spend(
    connection: Connection,
    account_id: int,
    cap: Cap,
    day: dt.date,
    unreported: Sequence[UnreportedDay],
) -> CapSpend:
    """Reported spend of `cap`'s period before `day`, and its unreported days."""
    reported = spend_between(connection, account_id, cap.period_start, day)
    inside = tuple(u for u in unreported if cap.period_start <= u.day <= cap.period_end)
    return CapSpend(cap, reported, inside)


def cap_budget(
    connection: Connection,
    account: Account,
    day: dt.date,
    curve_set: CurveSet,
    request: AllocationRequest,
    current_micros: int,
) -> CapBudget:
    """The budget for `day` under every approved cap covering it (ConflictError if none), each
    paced by the period plan over the cap's remaining days."""
    covering = caps_covering(connection, account, day)
    if not covering:
        raise ConflictError(
            f"no approved spend cap covers {day.isoformat()} for account '{account.name}'; "
            "propose one (POST /v1/accounts/{account}/caps) and have finance approve it"
        )
    unreported = unreported_days(connection, account, day)
    events = confirmed_events(connection, account.id)
    options = [
        _one(
            cap_spend(connection, account.id, cap, day, unreported), day, curve_set, request, events
        )
        for cap in covering
    ]
    budget, cap, pacing, text = min(options, key=lambda o: (o[0], -o[1].id))
    reached = pacing is not None and pacing.limited_by == "cap_reached"
    notes = [] if pacing is None else _lift_notes(events, day, cap.period_end)
    if len(covering) > 1:
        others = ", ".join(str(c.id) for c in covering if c.id != cap.id)
        notes.append(
            f"{len(covering)} approved caps cover {day:%d %B %Y}; cap {cap.id} is the tightest "
            f"and binds (also applied: cap {others})"
        )
    estimated = tuple(u for u in unreported if u.day >= min(c.period_start for c in covering))
    if estimated:
        expected = sum(u.expected_micros for u in estimated)
        reserved = sum(u.reserved_micros for u in estimated)
        money = account.currency
        notes.append(
            f"{len(estimated)} day(s) not yet reported ({estimated[0].day:%d %b} - "
            f"{estimated[-1].day:%d %b}): estimated {format_money(expected, money)}, counted "
            f"against the cap at {format_money(reserved, money)} (the most the platform could "
            "have spent)"
        )
        ceiling = floor_to_minor_unit(current_micros, account.currency)
        if budget > ceiling:
            notes.append(
                f"the budget stays at current spend {format_money(ceiling, money)} instead of "
                f"{format_money(budget, money)} until those days are reported"
            )
            budget = ceiling
    return CapBudget(budget, cap, pacing, text, reached, estimated, tuple(notes))


def _one(
    spend: CapSpend,
    day: dt.date,
    curve_set: CurveSet,
    request: AllocationRequest,
    events: Sequence[Event],
) -> tuple[int, Cap, PacingPlan | None, str]:
    cap = spend.cap
    if cap.days == 1:
        text = (
            f"cap {cap.id} is a one-day cap of {cap.amount} {cap.currency} for "
            f"{cap.period_start.isoformat()}: the day's budget is at most that amount"
        )
        return cap.amount_micros, cap, None, text
    pacing = paced(
        curve_set,
        request,
        day,
        cap_micros=cap.amount_micros,
        spent_micros=spend.counted_micros,
        period_end=cap.period_end,
        events=events,
    )
    return pacing.daily_budget_micros, cap, pacing, f"cap {cap.id}: {pacing.explanation}"


def _lift_notes(events: Sequence[Event], day: dt.date, end: dt.date) -> list[str]:
    return [
        f"promotion {max(e.start, day):%d %b} - {min(e.end, end):%d %b} planned at "
        f"{e.lift:g}x conversions per unit of spend: the period plan weighs those days by it"
        for e in events
        if e.lift is not None and e.start <= end and e.end >= day
    ]


def _planned_totals(
    connection: Connection, account_id: int, days: Sequence[dt.date]
) -> dict[dt.date, int]:
    """The newest published plan's total for each of `days` that has one."""
    newest = (
        select(func.max(recommendations.c.id))
        .where(
            recommendations.c.account_id == account_id,
            recommendations.c.date >= min(days),
            recommendations.c.date <= max(days),
        )
        .group_by(recommendations.c.date)
    )
    rows = connection.execute(
        select(recommendations.c.date, recommendations.c.total_micros).where(
            recommendations.c.id.in_(newest)
        )
    ).all()
    return {r.date: int(r.total_micros) for r in rows}


def _recent_mean(connection: Connection, account_id: int, last: dt.date) -> int:
    since = last - dt.timedelta(days=_RECENT_DAYS - 1)
    daily = (
        select(func.sum(performance.c.spend_micros).label("spend"))
        .where(
            performance.c.account_id == account_id,
            performance.c.date >= since,
            performance.c.date <= last,
        )
        .group_by(performance.c.date)
        .subquery()
    )
    mean = connection.execute(select(func.avg(daily.c.spend))).scalar_one()
    return round(float(mean)) if mean is not None else 0
