"""Publish the day plan under the approved cap, and read what was published.

Publishing is one INSERT (with its audit entry) in one transaction: a failed or killed run leaves
the previous recommendation live and never a half-written one. The sum of a published plan is
checked against its budget before it is written; a plan that breaks it is refused. The plan carries
notes: soft constraints relaxed to fit the cap, days counted as estimates, a spent cap (its rows'
bound says `cap_reached`, which the ad script turns into a pause), stale data, the policy used.
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
from optimizer.money import format_money, micros_to_decimal
from optimizer.planning import DayPlan, plan_day
from optimizer.platform.annotate import (
    CAMPAIGN_STRUCTURE_COLUMNS,
    KEYWORD_STRUCTURE_COLUMNS,
    annotate_campaigns,
    annotate_keywords,
)
from optimizer.platform.bids import DEFAULT_BID_CHANGE
from optimizer.platform.structure import MANUAL_BIDDING, PlatformStructure
from optimizer.report import RECOMMENDATION_COLUMNS, Level, recommendation_table
from optimizer.schema import MICROS
from optimizer.settings import get_settings
from optimizer.solver import Allocation, AllocationRequest
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.performance import select_stored
from optimizer.store.tables import performance, predictions, recommendations
from optimizer.usecases import experiments
from optimizer.usecases.accounts import find_account
from optimizer.usecases.audit import record
from optimizer.usecases.cap_pacing import CapBudget, cap_budget
from optimizer.usecases.caps import Cap, cap_by_id
from optimizer.usecases.policy import policy_for, under_policy
from optimizer.usecases.structure import load_structure, shared_budgets_for

__all__ = [
    "Recommendation",
    "history",
    "latest",
    "nothing_published",
    "publish",
]

_MONEY = ("current_spend", "recommended_spend")
_BID_HISTORY_DAYS = 28
_STRUCTURE_COLUMNS = {"campaign": CAMPAIGN_STRUCTURE_COLUMNS, "keyword": KEYWORD_STRUCTURE_COLUMNS}


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
    notes: tuple[dict[str, str], ...] = ()
    forecast: tuple[tuple[dt.date, int], ...] = ()
    """The period plan's budget for each remaining day of the cap's period, tomorrow first."""

    def table(self, level: Level) -> pd.DataFrame:
        """Rows in `RECOMMENDATION_COLUMNS`, money as exact decimal strings in minor units."""
        frame = pd.DataFrame(self.payload[level], columns=[*RECOMMENDATION_COLUMNS, "micros"])
        for column in _MONEY:
            source = frame["micros"] if column == "recommended_spend" else frame[column]
            frame[column] = [self._money(v) for v in source]
        return frame.loc[:, list(RECOMMENDATION_COLUMNS)]

    def structure_columns(self, level: Level) -> list[dict[str, Any]]:
        """Per row (in `table` order) the platform columns a plan made with the ad script's
        structure carries (see `optimizer.platform.annotate`); empty dicts for older plans."""
        wanted = _STRUCTURE_COLUMNS[level]
        return [{k: row[k] for k in wanted if k in row} for row in self.payload[level]]

    def budgets(self) -> list[dict[str, Any]]:
        """One row per shared budget (set once by the ad script); empty without a structure."""
        return list(self.payload.get("budgets", []))

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
    """Plan `day` under every approved cap covering it and the account's plan policy; publish.

    A request's options override the policy's; its budget may only lower the paced one."""
    require(principal, Action.RECOMMENDATION_PUBLISH)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        stored = load_curve_set(connection, account.id)
        table = stored.curve_set.table(day)
        current = round(float(table["current_spend"].sum()) * MICROS)
        version, policy = policy_for(connection, account.id)
        base = under_policy(
            dataclasses.replace(request, currency=account.currency)
            if request is not None
            else AllocationRequest(currency=account.currency),
            policy.request(account.currency, table),
        )
        budgeted = cap_budget(connection, account, day, stored.curve_set, base, current)
        structure = load_structure(connection, account.id)
        history = _bid_history(connection, account.id, day, structure)
        if structure is not None:
            base = dataclasses.replace(base, shared_budgets=shared_budgets_for(structure, table))
        budget = budgeted.budget_micros
        if base.budget_micros is not None:
            budget = min(budget, base.budget_micros)
        planned = dataclasses.replace(base, budget_micros=budget)
        day_plan = plan_day(stored.curve_set, planned, day)
        day_plan = dataclasses.replace(day_plan, pacing=budgeted.pacing)
        exploration = experiments.explore(
            connection, account.id, stored.curve_set, planned, day, day_plan, budgeted,
            policy.exploration_share,
        )  # fmt: skip
    day_plan = exploration.day_plan
    cap = budgeted.cap
    total = day_plan.allocation.total_micros
    if total > budget or total < 0:
        raise SolverError(
            f"refused to publish: the plan spends {total} micros against a budget of {budget}"
        )
    notes = _notes(day_plan, budgeted, version, len(budgeted.estimated))
    notes[-1:-1] = list(exploration.notes)
    payload = {
        level: _rows(day_plan, level, cap_reached=budgeted.cap_reached)
        for level in ("keyword", "campaign")
    }
    if structure is not None:
        annotated = annotate_campaigns(payload["campaign"], structure, account.currency)
        payload["campaign"] = annotated.rows
        payload["budgets"] = annotated.budgets
        payload["keyword"] = annotate_keywords(
            payload["keyword"], structure, history, account.currency, max_change=DEFAULT_BID_CHANGE
        )
        notes.extend(annotated.notes)
    text = json.dumps(payload, sort_keys=True, allow_nan=False, default=_json_default)
    notes_text = json.dumps(notes, sort_keys=True)
    etag = hashlib.sha256(f"{account.id}:{day}:{cap.id}:{text}:{notes_text}".encode()).hexdigest()[
        :32
    ]
    pacing = budgeted.explanation
    forecast = () if budgeted.pacing is None else budgeted.pacing.forecast
    forecast_text = json.dumps([[d.isoformat(), int(m)] for d, m in forecast])
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
                notes=notes_text,
                forecast=forecast_text,
            )
            .returning(recommendations.c.id)
        ).scalar_one()
        _write_predictions(connection, int(rec_id), account.id, stored.id, day_plan)
        experiments.save(
            connection, account.id, exploration, day=day, cap_id=cap.id,
            cap_micros=cap.amount_micros, curve_set_id=stored.id, request=planned,
        )  # fmt: skip
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
                "policy_version": version,
                "notes": notes,
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
        notes=tuple(notes),
        forecast=tuple(forecast),
    )


def _bid_history(
    connection: Connection, account_id: int, day: dt.date, structure: PlatformStructure | None
) -> dict[tuple[str, str, str, str], tuple[list[float], list[int]]]:
    """Daily spend and clicks of the manually bid keywords over the `_BID_HISTORY_DAYS` up to the
    newest reported day before `day`."""
    if structure is None:
        return {}
    campaigns = sorted(
        {k.campaign for k in structure.keywords if k.bidding_strategy_type in MANUAL_BIDDING}
    )
    if not campaigns:
        return {}
    newest = connection.execute(
        select(func.max(performance.c.date)).where(
            performance.c.account_id == account_id, performance.c.date < day
        )
    ).scalar_one_or_none()
    if newest is None:
        return {}
    if isinstance(newest, str):
        newest = dt.date.fromisoformat(newest[:10])
    start = newest - dt.timedelta(days=_BID_HISTORY_DAYS - 1)
    frame = select_stored(connection, account_id, start, newest, campaigns)
    frame = frame[frame["keyword"].astype(str) != ""]
    out: dict[tuple[str, str, str, str], tuple[list[float], list[int]]] = {}
    for key, rows in frame.groupby(["campaign", "ad_group", "keyword", "match_type"], sort=False):
        names = tuple(str(k) for k in key)
        out[(names[0], names[1], names[2], names[3])] = (
            [int(v) / MICROS for v in rows["spend_micros"]],
            [int(v) for v in rows["clicks"]],
        )
    return out


def _write_predictions(
    connection: Connection, rec_id: int, account_id: int, curve_set_id: int, day_plan: DayPlan
) -> None:
    """The ledger's rows: what this plan predicts per entity, kept beside the plan."""
    entities = day_plan.allocation.entities
    columns = ("entity_id", "recommended_micros", "expected_conversions", "conversions_low",
               "conversions_high", "expected_value")  # fmt: skip
    rows = [
        {
            "recommendation_id": rec_id,
            "entity_id": str(entity),
            "account_id": account_id,
            "date": day_plan.day,
            "curve_set_id": curve_set_id,
            "recommended_micros": int(micros),
            "expected_conversions": float(expected),
            "conversions_low": float(low),
            "conversions_high": float(high),
            "expected_value": float(value),
        }
        for entity, micros, expected, low, high, value in zip(
            *(entities[c].to_numpy() for c in columns), strict=True
        )
    ]
    if rows:
        connection.execute(insert(predictions), rows)


def _notes(
    day_plan: DayPlan, budgeted: CapBudget, policy_version: int, unreported: int
) -> list[dict[str, str]]:
    """What the plan must say beside its numbers: relaxed constraints, caps, estimates, policy."""
    notes = [{"kind": "relaxed", "text": r.text} for r in day_plan.allocation.relaxations]
    if budgeted.cap_reached:
        notes.append(
            {
                "kind": "cap_reached",
                "text": "the cap is spent: every campaign gets 0 and the ad script pauses it "
                "(label 'ppcopt: cap') until a plan funds it again",
            }
        )
    notes.extend({"kind": "pacing", "text": text} for text in budgeted.notes)
    stale = get_settings().stale_data_days
    if unreported > stale:
        notes.append(
            {
                "kind": "stale_data",
                "text": f"the newest reported day is {unreported + 1} days before "
                f"{day_plan.day:%d %B %Y} (more than {stale}): upload the latest export",
            }
        )
    marginal = _marginal_note(day_plan.allocation)
    if marginal is not None and not budgeted.cap_reached:
        notes.append(marginal)
    shown = "the default policy" if policy_version == 0 else f"plan policy v{policy_version}"
    notes.append({"kind": "policy", "text": f"planned under {shown}"})
    return notes


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


def _marginal_note(allocation: Allocation) -> dict[str, str] | None:
    """What one more unit of the cap would buy, and what holds each entity where it is: the
    figures a controller asks for before raising or cutting a cap (kept for the month's report)."""
    price = allocation.cap_shadow_price
    if price is None or not math.isfinite(price):
        return None
    counts = allocation.entities["binding"].value_counts(sort=False).sort_index()
    held = ", ".join(f"{name} {count}" for name, count in counts.items() if name != "none")
    cpa = (
        f" (a marginal CPA of {format_money(round(MICROS / price), allocation.currency)})"
        if price > 0 and allocation.objective == "conversions"
        else ""
    )
    return {
        "kind": "marginal",
        "text": f"{allocation.shadow_price_text()}{cpa}; what holds the entities: "
        f"{held or 'nothing'}",
        "shadow_price": f"{price:.6g}",
        "objective": allocation.objective,
        "binding": ",".join(f"{name}:{count}" for name, count in counts.items()),
    }


def _rows(day_plan: DayPlan, level: Level, *, cap_reached: bool) -> list[dict[str, Any]]:
    table = recommendation_table(
        day_plan.allocation, day_plan.day, level, band_scale=day_plan.band_scale
    )
    if cap_reached:
        table["bound"] = "cap_reached"
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
                notes=tuple(json.loads(r.notes)),
                forecast=tuple(
                    (dt.date.fromisoformat(d), int(m)) for d, m in json.loads(r.forecast)
                ),
            )
        )
    return result
