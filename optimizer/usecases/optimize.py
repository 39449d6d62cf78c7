"""Plan a stored account's day: latest curves, pacing against the month's spend, the LP.

These are what-if answers: nothing is published here (see `optimizer.usecases.recommendations`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine

from optimizer.money import floor_to_minor_unit, format_money
from optimizer.planning import DayPlan, plan_day, plan_frontier
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest, Frontier
from optimizer.store.curves import StoredCurveSet, load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.performance import spend_between
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.cap_pacing import cap_budget
from optimizer.usecases.caps import caps_covering
from optimizer.usecases.events import confirmed_events
from optimizer.usecases.policy import locked_entities, policy_for, under_policy
from optimizer.usecases.structure import load_structure, shared_budgets_for

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
    locked_campaigns: Sequence[str] = (),
) -> AccountPlan:
    """Allocate the account's budget for `day` (default: tomorrow in its time zone) under its plan
    policy. Without a budget or a monthly cap, a conversions or value plan takes the approved
    caps' pace for the day (as publish would), or current spend when no cap covers it, and its
    `basis` says which. `locked_campaigns` (kept at current spend) replace the policy's locks."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        stored = load_curve_set(connection, account.id)
        target = day if day is not None else tomorrow(account)
        table = stored.curve_set.table(target)
        _, policy = policy_for(connection, account.id)
        request = under_policy(
            _with_locks(request, account.currency, table, locked_campaigns),
            policy.request(account.currency, table),
        )
        structure = load_structure(connection, account.id)
        if structure is not None and not request.shared_budgets:
            request = dataclasses.replace(
                request, shared_budgets=shared_budgets_for(structure, table)
            )
        spent = (
            spend_between(connection, account.id, target.replace(day=1), target)
            if monthly_cap_micros is not None
            else 0
        )
        events = confirmed_events(connection, account.id)
        basis = ""
        if (
            monthly_cap_micros is None
            and request.budget_micros is None
            and request.objective in ("conversions", "value")
        ):
            budget, basis = _default_budget(connection, account, stored, target, table, request)
            request = dataclasses.replace(request, budget_micros=budget)
    day_plan = plan_day(
        stored.curve_set,
        request,
        target,
        monthly_cap_micros=monthly_cap_micros,
        month_to_date_micros=spent,
        events=events,
    )
    return AccountPlan(account, stored, dataclasses.replace(day_plan, basis=basis))


def _default_budget(
    connection: Connection,
    account: Account,
    stored: StoredCurveSet,
    day: dt.date,
    table: pd.DataFrame,
    request: AllocationRequest,
) -> tuple[int, str]:
    current = floor_to_minor_unit(
        round(float(table["current_spend"].sum()) * MICROS), account.currency
    )
    if caps_covering(connection, account, day):
        budgeted = cap_budget(connection, account, day, stored.curve_set, request, current)
        said = "; ".join((budgeted.explanation, *budgeted.notes))
        return (
            budgeted.budget_micros,
            f"no budget given: planned at the approved cap's pace ({said})",
        )
    return current, (
        f"no budget given and no approved cap covers {day.isoformat()}: planned at current "
        f"spend {format_money(current, account.currency)}"
    )


def frontier(
    engine: Engine,
    account_name: str,
    request: AllocationRequest,
    *,
    day: dt.date | None = None,
    budgets_micros: Sequence[int] | None = None,
    locked_campaigns: Sequence[str] = (),
    should_stop: Callable[[], bool] | None = None,
) -> Frontier:
    """What each total budget would buy on `day` for the account's latest curves; stops between
    budgets once `should_stop` says the caller went away."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        stored = load_curve_set(connection, account.id)
    target = day if day is not None else tomorrow(account)
    table = stored.curve_set.table(target)
    request = _with_locks(request, account.currency, table, locked_campaigns)
    return plan_frontier(stored.curve_set, request, target, budgets_micros, should_stop)


def _with_locks(
    request: AllocationRequest, currency: str, table: pd.DataFrame, campaigns: Sequence[str]
) -> AllocationRequest:
    locked = locked_entities(table, campaigns, strict=True) if campaigns else request.locked
    return dataclasses.replace(request, currency=currency, locked=locked)
