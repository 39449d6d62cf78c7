"""The stored-account use cases as a caller with a role sees them: authorised, scoped, audited.

The API and the dashboard call these; the CLI (a trusted local operator) calls the plain use cases
or these with `system_principal`. Every write lands in the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd
from sqlalchemy import Engine

from optimizer.access import Action, Principal, require, require_account
from optimizer.io.dates import DateOrder
from optimizer.solver import AllocationRequest, Frontier
from optimizer.store.curves import StoredCurveSet
from optimizer.store.engine import transaction
from optimizer.usecases.accounts import (
    Account,
    create_account,
    find_account,
    list_accounts,
    set_locale,
)
from optimizer.usecases.fit import FitOutcome, fit, latest_curves
from optimizer.usecases.ingest import (
    IngestReport,
    Source,
    ingest,
    ingest_accounts,
    load_history,
)
from optimizer.usecases.optimize import AccountPlan, frontier, plan

__all__ = [
    "account_as",
    "create_account_as",
    "curves_as",
    "fit_as",
    "frontier_as",
    "history_as",
    "ingest_accounts_as",
    "ingest_as",
    "plan_as",
    "set_locale_as",
    "visible_accounts",
]


def account_as(engine: Engine, principal: Principal, account_name: str) -> Account:
    """The account if the principal may see it; NotFoundError otherwise (existence is private)."""
    require(principal, Action.ACCOUNT_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
    require_account(principal, account.id, account.name)
    return account


def _checked(engine: Engine, principal: Principal, account_name: str, action: Action) -> Account:
    require(principal, action)
    return account_as(engine, principal, account_name)


def visible_accounts(engine: Engine, principal: Principal) -> list[Account]:
    require(principal, Action.ACCOUNT_READ)
    scope = principal.account_ids
    return [a for a in list_accounts(engine) if scope is None or a.id in scope]


def create_account_as(
    engine: Engine,
    principal: Principal,
    name: str,
    *,
    currency: str,
    timezone: str,
    locale: str | None = None,
) -> Account:
    require(principal, Action.ACCOUNT_CREATE)
    return create_account(
        engine, name, currency=currency, timezone=timezone, locale=locale, principal=principal
    )


def set_locale_as(
    engine: Engine, principal: Principal, account_name: str, locale: str | None
) -> Account:
    """Account settings are an admin's, like creating the account."""
    account = _checked(engine, principal, account_name, Action.ACCOUNT_CREATE)
    return set_locale(engine, account.name, locale, principal=principal)


def ingest_as(
    engine: Engine,
    principal: Principal,
    account_name: str,
    source: Source,
    *,
    source_name: str | None = None,
    format: str | None = None,
    partial: bool = False,
    decimal_comma: bool | None = None,
    date_order: DateOrder | None = None,
    sum_segments: bool = False,
) -> IngestReport:
    """Ingest an upload; its audit entry (the report's counts) commits with the rows."""
    account = _checked(engine, principal, account_name, Action.PERFORMANCE_WRITE)
    return ingest(
        engine,
        account.name,
        source,
        source_name=source_name,
        format=format,
        partial=partial,
        decimal_comma=decimal_comma,
        date_order=date_order,
        sum_segments=sum_segments,
        principal=principal,
    )


def ingest_accounts_as(
    engine: Engine,
    principal: Principal,
    source: Source,
    *,
    source_name: str | None = None,
    format: str | None = None,
    partial: bool = False,
    decimal_comma: bool | None = None,
    date_order: DateOrder | None = None,
    sum_segments: bool = False,
) -> list[IngestReport]:
    """A manager report split into the accounts it names, each within the principal's scope."""
    require(principal, Action.PERFORMANCE_WRITE)
    return ingest_accounts(
        engine,
        source,
        principal=principal,
        source_name=source_name,
        format=format,
        partial=partial,
        decimal_comma=decimal_comma,
        date_order=date_order,
        sum_segments=sum_segments,
    )


def fit_as(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    only_if_changed: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> FitOutcome:
    """Fit (or reuse the current fit); a new version is audited in the transaction storing it.
    `should_stop` cancels it between units of work (see `fit`)."""
    account = _checked(engine, principal, account_name, Action.FIT_RUN)
    return fit(
        engine,
        account.name,
        only_if_changed=only_if_changed,
        principal=principal,
        should_stop=should_stop,
    )


def curves_as(engine: Engine, principal: Principal, account_name: str) -> StoredCurveSet:
    account = _checked(engine, principal, account_name, Action.CURVES_READ)
    return latest_curves(engine, account.name)


def history_as(
    engine: Engine, principal: Principal, account_name: str, *, start: dt.date | None = None
) -> pd.DataFrame:
    account = _checked(engine, principal, account_name, Action.CURVES_READ)
    return load_history(engine, account.name, start=start)


def plan_as(
    engine: Engine,
    principal: Principal,
    account_name: str,
    request: AllocationRequest,
    *,
    day: dt.date | None = None,
    monthly_cap_micros: int | None = None,
    locked_campaigns: Sequence[str] = (),
) -> AccountPlan:
    """A what-if plan: nothing is published or written."""
    account = _checked(engine, principal, account_name, Action.WHAT_IF)
    return plan(
        engine,
        account.name,
        request,
        day=day,
        monthly_cap_micros=monthly_cap_micros,
        locked_campaigns=locked_campaigns,
    )


def frontier_as(
    engine: Engine,
    principal: Principal,
    account_name: str,
    request: AllocationRequest,
    *,
    day: dt.date | None = None,
    budgets_micros: Sequence[int] | None = None,
    locked_campaigns: Sequence[str] = (),
    should_stop: Callable[[], bool] | None = None,
) -> Frontier:
    account = _checked(engine, principal, account_name, Action.WHAT_IF)
    return frontier(
        engine,
        account.name,
        request,
        day=day,
        budgets_micros=budgets_micros,
        locked_campaigns=locked_campaigns,
        should_stop=should_stop,
    )
