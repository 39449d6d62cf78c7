"""Plan a stored account's day: latest curves, pacing against the month's spend, the LP.

These are what-if answers: nothing is published here (see `optimizer.usecases.recommendations`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from optimizer.planning import DayPlan, plan_day, plan_frontier
from optimizer.solver import AllocationRequest, Frontier
from optimizer.store.curves import StoredCurveSet, load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.tables import performance
from optimizer.usecases.accounts import Account, find_account

__all__ = ["AccountPlan", "frontier", "plan", "tomorrow"]


@dataclass(frozen=True, eq=False)
class AccountPlan:
    """A plan with the account and the curve set version it was made from."""

    account: Account
    curves: StoredCurveSet
    plan: DayPlan


def tomorrow(account: Account, now: dt.datetime | None = None) -> dt.date:
    """The next calendar day in the account's own time zone (budgets are per account day)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return (moment.astimezone(ZoneInfo(account.timezone)) + dt.timedelta(days=1)).date()


def plan(
    engine: Engine,
    account_name: str,
    request: AllocationRequest,
    *,
    day: dt.date | None = None,
    monthly_cap_micros: int | None = None,
) -> AccountPlan:
    """Allocate the account's budget for `day` (default: tomorrow in its time zone)."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        stored = load_curve_set(connection, account.id)
        target = day if day is not None else tomorrow(account)
        spent = (
            _month_to_date(connection, account.id, target) if monthly_cap_micros is not None else 0
        )
    request = dataclasses.replace(request, currency=account.currency)
    day_plan = plan_day(
        stored.curve_set,
        request,
        target,
        monthly_cap_micros=monthly_cap_micros,
        month_to_date_micros=spent,
    )
    return AccountPlan(account, stored, day_plan)


def frontier(
    engine: Engine,
    account_name: str,
    request: AllocationRequest,
    *,
    day: dt.date | None = None,
    budgets_micros: Sequence[int] | None = None,
) -> Frontier:
    """What each total budget would buy on `day` for the account's latest curves."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        stored = load_curve_set(connection, account.id)
    target = day if day is not None else tomorrow(account)
    request = dataclasses.replace(request, currency=account.currency)
    return plan_frontier(stored.curve_set, request, target, budgets_micros)


def _month_to_date(connection: Connection, account_id: int, day: dt.date) -> int:
    total = connection.execute(
        select(func.coalesce(func.sum(performance.c.spend_micros), 0)).where(
            performance.c.account_id == account_id,
            performance.c.date >= day.replace(day=1),
            performance.c.date < day,
        )
    ).scalar_one()
    return int(total)
