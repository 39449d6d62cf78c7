"""Publish the day plan under the approved cap, and read what was published.

Publishing is one INSERT (with its audit entry) in one transaction: a failed or killed run leaves
the previous recommendation live and never a half-written one. The sum of a published plan is
checked against its budget and the cap before it is written; a plan that breaks it is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import NotFoundError, SolverError
from optimizer.money import micros_to_decimal
from optimizer.planning import DayPlan, plan_day
from optimizer.report import RECOMMENDATION_COLUMNS, Level, recommendation_table
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest
from optimizer.store.curves import StoredCurveSet, load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.tables import performance, recommendations
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.audit import record
from optimizer.usecases.caps import Cap, cap_by_id, cap_covering

__all__ = [
    "Recommendation",
    "history",
    "latest",
    "nothing_published",
    "publish",
    "spend_between",
]

_MONEY = ("current_spend", "recommended_spend")


@dataclass(frozen=True, eq=False)
class Recommendation:
    """A published plan: keyword and campaign rows, the cap it obeys, who made it and when."""

    id: int
    account: str
    currency: str
    date: dt.date
    cap: Cap
    curve_set_id: int
    budget_micros: int
    total_micros: int
    created_at: dt.datetime
    created_by: str
    etag: str
    pacing: str
    payload: dict[str, list[dict[str, Any]]]

    def table(self, level: Level) -> pd.DataFrame:
        """Rows in `RECOMMENDATION_COLUMNS`, money as exact decimal strings in minor units."""
        frame = pd.DataFrame(self.payload[level], columns=[*RECOMMENDATION_COLUMNS, "micros"])
        for column in _MONEY:
            source = frame["micros"] if column == "recommended_spend" else frame[column]
            frame[column] = [self._money(v) for v in source]
        return frame.loc[:, list(RECOMMENDATION_COLUMNS)]

    def _money(self, value: object) -> str:
        micros = int(value) if isinstance(value, int) else round(float(str(value)) * MICROS)
        return str(micros_to_decimal(micros, self.currency))


def publish(
    engine: Engine,
    principal: Principal,
    account_name: str,
    day: dt.date,
    request: AllocationRequest | None = None,
) -> Recommendation:
    """Plan `day` under the approved cap covering it (paced over the cap's period) and publish."""
    require(principal, Action.RECOMMENDATION_PUBLISH)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        cap = cap_covering(connection, account, day)
        stored = load_curve_set(connection, account.id)
        spent = spend_between(connection, account.id, cap.period_start, day)
    day_plan = _plan(stored, account, cap, day, spent, request)
    budget = day_plan.allocation.budget_micros
    total = day_plan.allocation.total_micros
    if budget is None or total > budget or total > cap.amount_micros - min(spent, 0) or total < 0:
        raise SolverError(
            f"refused to publish: the plan spends {total} micros against a budget of {budget}"
        )
    payload = {level: _rows(day_plan, level) for level in ("keyword", "campaign")}
    text = json.dumps(payload, sort_keys=True, allow_nan=False, default=_json_default)
    etag = hashlib.sha256(f"{account.id}:{day}:{cap.id}:{text}".encode()).hexdigest()[:32]
    pacing = day_plan.pacing.explanation if day_plan.pacing is not None else _daily_text(cap)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        rec_id = connection.execute(
            insert(recommendations)
            .values(
                account_id=account.id,
                date=day,
                cap_id=cap.id,
                curve_set_id=stored.id,
                budget_micros=budget,
                total_micros=total,
                created_at=now,
                created_by=principal.actor,
                etag=etag,
                pacing=pacing,
                payload=text,
            )
            .returning(recommendations.c.id)
        ).scalar_one()
        record(
            connection,
            principal,
            "recommendation.publish",
            f"recommendation {rec_id}",
            account_id=account.id,
            after={
                "id": int(rec_id),
                "date": day.isoformat(),
                "cap_id": cap.id,
                "budget": str(micros_to_decimal(budget, account.currency)),
                "total": str(micros_to_decimal(total, account.currency)),
                "curve_set_version": stored.version,
            },
        )
    return Recommendation(
        id=int(rec_id),
        account=account.name,
        currency=account.currency,
        date=day,
        cap=cap,
        curve_set_id=stored.id,
        budget_micros=budget,
        total_micros=total,
        created_at=now,
        created_by=principal.actor,
        etag=etag,
        pacing=pacing,
        payload=json.loads(text),
    )


def latest(engine: Engine, principal: Principal, account_name: str) -> Recommendation:
    """The most recently published recommendation of the account (NotFoundError if none)."""
    found = _select(engine, principal, account_name, day=None, limit=1)
    if not found:
        raise nothing_published(account_name)
    return found[0]


def nothing_published(account_name: str) -> NotFoundError:
    return NotFoundError(
        f"nothing has been published for account '{account_name}' yet; a manager publishes "
        "with POST /v1/accounts/{account}/recommendations (or the nightly job does)"
    )


def history(
    engine: Engine, principal: Principal, account_name: str, day: dt.date | None = None
) -> list[Recommendation]:
    """Published recommendations, newest first (only those for `day` when given)."""
    return _select(engine, principal, account_name, day=day, limit=100)


def spend_between(connection: Connection, account_id: int, start: dt.date, end: dt.date) -> int:
    """Spend booked from `start` up to, not including, `end`, in micros."""
    total = connection.execute(
        select(func.coalesce(func.sum(performance.c.spend_micros), 0)).where(
            performance.c.account_id == account_id,
            performance.c.date >= start,
            performance.c.date < end,
        )
    ).scalar_one()
    return int(total)


def _plan(
    stored: StoredCurveSet,
    account: Account,
    cap: Cap,
    day: dt.date,
    spent: int,
    request: AllocationRequest | None,
) -> DayPlan:
    base = (
        dataclasses.replace(request, currency=account.currency)
        if request is not None
        else AllocationRequest(currency=account.currency)
    )
    if cap.days == 1:
        limit = cap.amount_micros
        wanted = base.budget_micros
        budget = limit if wanted is None else min(wanted, limit)
        return plan_day(stored.curve_set, dataclasses.replace(base, budget_micros=budget), day)
    paced = plan_day(
        stored.curve_set,
        dataclasses.replace(base, budget_micros=None),
        day,
        monthly_cap_micros=cap.amount_micros,
        month_to_date_micros=spent,
        period_end=cap.period_end,
    )
    if base.budget_micros is None or paced.allocation.budget_micros is None:
        return paced
    if base.budget_micros >= paced.allocation.budget_micros:
        return paced
    narrower = plan_day(stored.curve_set, base, day)
    return DayPlan(day, narrower.allocation, paced.pacing)


def _daily_text(cap: Cap) -> str:
    return (
        f"cap {cap.id} is a one-day cap of {cap.amount} {cap.currency} for "
        f"{cap.period_start.isoformat()}: the day's budget is at most that amount"
    )


def _rows(day_plan: DayPlan, level: Level) -> list[dict[str, Any]]:
    table = recommendation_table(day_plan.allocation, day_plan.day, level)
    micros = _recommended_micros(day_plan, level)
    rows = []
    for values, m in zip(table.to_dict(orient="records"), micros, strict=True):
        clean: dict[str, Any] = {str(k): _finite(v) for k, v in values.items()}
        clean["micros"] = m
        rows.append(clean)
    return rows


def _recommended_micros(day_plan: DayPlan, level: Level) -> list[int]:
    entities = day_plan.allocation.entities
    if level == "keyword":
        return [int(v) for v in entities["recommended_micros"]]
    sums = entities.groupby("campaign", sort=True)["recommended_micros"].sum()
    return [int(v) for v in sums]


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _finite(value.item())
    return value


def _json_default(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _select(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    day: dt.date | None,
    limit: int,
) -> list[Recommendation]:
    require(principal, Action.RECOMMENDATION_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        query = (
            select(recommendations)
            .where(recommendations.c.account_id == account.id)
            .order_by(recommendations.c.id.desc())
            .limit(limit)
        )
        if day is not None:
            query = query.where(recommendations.c.date == day)
        rows = connection.execute(query).all()
        caps_by_id = {cid: cap_by_id(connection, cid) for cid in {int(r.cap_id) for r in rows}}
    result = []
    for r in rows:
        cap = caps_by_id[int(r.cap_id)]
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=dt.UTC)
        result.append(
            Recommendation(
                id=int(r.id),
                account=account.name,
                currency=account.currency,
                date=r.date,
                cap=cap,
                curve_set_id=int(r.curve_set_id),
                budget_micros=int(r.budget_micros),
                total_micros=int(r.total_micros),
                created_at=created,
                created_by=r.created_by,
                etag=r.etag,
                pacing=r.pacing,
                payload=json.loads(r.payload),
            )
        )
    return result
