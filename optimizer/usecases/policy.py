"""The account's standing plan policy: the team's limits, applied by every door that plans.

A manager sets it once (CLI, API); publish, the nightly job and the what-if all plan under it, so a
limit the team agreed on reaches the published plan. Each change is a new version, audited with the
one before. Without a stored policy the default applies: a campaign's budget rises at most 30% a
day (Smart Bidding's learning and the ad script's guard both dislike jumps) and falls without limit
(finance must be able to cut). A request's own options override the policy field by field.

`exploration_share` is the share of each day's budget the plan may move into spend tests where
the curves are unsure (`optimizer.experiments`); 0, the default, turns them off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import InvalidInputError
from optimizer.requests import build_request
from optimizer.solver import AllocationRequest
from optimizer.store.engine import transaction
from optimizer.store.tables import plan_policies
from optimizer.usecases.accounts import find_account
from optimizer.usecases.audit import record

__all__ = [
    "DEFAULT_MAX_INCREASE",
    "MAX_EXPLORATION_SHARE",
    "PlanPolicy",
    "StoredPolicy",
    "get_policy",
    "locked_entities",
    "policy_for",
    "set_policy",
    "under_policy",
]

DEFAULT_MAX_INCREASE = 0.30
MAX_EXPLORATION_SHARE = 0.10
_MAX_NAMES = 1000


@dataclass(frozen=True, kw_only=True)
class PlanPolicy:
    """The team's standing limits, as typed (amounts in `groups` and `target_cpa` are read with
    `decimal_comma`, fixed when the policy was set)."""

    objective: str = "conversions"
    margin: float | None = None
    max_change: float | None = None
    max_increase: float | None = DEFAULT_MAX_INCREASE
    max_decrease: float | None = None
    groups: tuple[str, ...] = ()
    target_cpa: str | None = None
    target_roas: float | None = None
    locked_campaigns: tuple[str, ...] = ()
    allow_new: bool = False
    conservative: bool = False
    decimal_comma: bool | None = None
    exploration_share: float = 0.0

    def request(self, currency: str, table: pd.DataFrame | None = None) -> AllocationRequest:
        """The solver request this policy asks for (locks resolved against `table`'s campaigns)."""
        built = build_request(
            currency,
            objective=self.objective,
            margin=self.margin,
            max_change=self.max_change,
            groups=self.groups,
            target_cpa=self.target_cpa,
            target_roas=self.target_roas,
            conservative=self.conservative,
            allow_new=self.allow_new,
            decimal_comma=self.decimal_comma,
        )
        locked: frozenset[str] = frozenset()
        if self.locked_campaigns and table is not None:
            locked = locked_entities(table, self.locked_campaigns)
        return dataclasses.replace(
            built,
            max_increase=self.max_increase,
            max_decrease=self.max_decrease,
            locked=locked,
        )

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanPolicy:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("groups", "locked_campaigns"):
            if name in values:
                values[name] = tuple(str(v) for v in values[name])
        return cls(**values)

    def check(self, currency: str) -> PlanPolicy:
        """Self, once its limits read as a valid request (InvalidInputError otherwise)."""
        self.request(currency)
        if len(self.locked_campaigns) > _MAX_NAMES or len(self.groups) > _MAX_NAMES:
            raise InvalidInputError(f"a policy names at most {_MAX_NAMES} groups or campaigns")
        share = self.exploration_share
        if not (math.isfinite(share) and 0 <= share <= MAX_EXPLORATION_SHARE):
            raise InvalidInputError(
                f"the exploration share must be between 0 (no spend tests) and "
                f"{MAX_EXPLORATION_SHARE:g} of the budget, not {share:g}"
            )
        return self


def locked_entities(
    table: pd.DataFrame, campaigns: Sequence[str], *, strict: bool = False
) -> frozenset[str]:
    """The entity ids of the named campaigns in a curve table. A standing policy may name a
    campaign that has since gone (ignored); with `strict` (a what-if typed now) that is an error."""
    names = table["campaign"].astype(str)
    if strict:
        unknown = sorted(set(campaigns) - set(names))
        if unknown:
            raise InvalidInputError(
                f"no campaign named {', '.join(repr(n) for n in unknown[:5])} in the latest curves"
            )
    return frozenset(table.loc[names.isin(campaigns), "entity_id"].astype(str))


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A policy version of an account; version 0 is the default (nothing stored yet)."""

    account: str
    version: int
    policy: PlanPolicy
    created_at: dt.datetime | None
    created_by: str | None


def under_policy(request: AllocationRequest, policy: AllocationRequest) -> AllocationRequest:
    """`request` with each option it leaves at its default taken from the policy's request."""
    defaults = AllocationRequest(currency=request.currency)
    taken = {
        f.name: getattr(policy, f.name)
        for f in dataclasses.fields(AllocationRequest)
        if f.name not in ("currency", "budget_micros")
        and getattr(request, f.name) == getattr(defaults, f.name)
    }
    return dataclasses.replace(request, **taken)


def policy_for(connection: Connection, account_id: int) -> tuple[int, PlanPolicy]:
    """The account's newest policy version and policy (0 and the default when none is stored)."""
    row = connection.execute(
        select(plan_policies.c.version, plan_policies.c.policy)
        .where(plan_policies.c.account_id == account_id)
        .order_by(plan_policies.c.version.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return 0, PlanPolicy()
    return int(row.version), PlanPolicy.from_json(json.loads(row.policy))


def get_policy(engine: Engine, principal: Principal, account_name: str) -> StoredPolicy:
    """The policy every plan of the account uses now."""
    require(principal, Action.POLICY_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        row = connection.execute(
            select(plan_policies)
            .where(plan_policies.c.account_id == account.id)
            .order_by(plan_policies.c.version.desc())
            .limit(1)
        ).one_or_none()
    if row is None:
        return StoredPolicy(account.name, 0, PlanPolicy(), None, None)
    return StoredPolicy(
        account.name,
        int(row.version),
        PlanPolicy.from_json(json.loads(row.policy)),
        row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC),
        row.created_by,
    )


def set_policy(
    engine: Engine,
    principal: Principal,
    account_name: str,
    policy: PlanPolicy,
    *,
    locked_campaigns: Sequence[str] | None = None,
) -> StoredPolicy:
    """Store `policy` as the account's next version (audited with the version it replaces)."""
    require(principal, Action.POLICY_SET)
    if locked_campaigns is not None:
        policy = dataclasses.replace(policy, locked_campaigns=tuple(locked_campaigns))
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        policy.check(account.currency)
        version, before = policy_for(connection, account.id)
        newest = connection.execute(
            select(func.coalesce(func.max(plan_policies.c.version), 0)).where(
                plan_policies.c.account_id == account.id
            )
        ).scalar_one()
        number = int(newest) + 1
        connection.execute(
            insert(plan_policies).values(
                account_id=account.id,
                version=number,
                policy=json.dumps(policy.as_json(), sort_keys=True),
                created_at=now,
                created_by=principal.actor,
            )
        )
        record(
            connection,
            principal,
            "policy.set",
            f"account {account.name} policy v{number}",
            account_id=account.id,
            before={"version": version, **before.as_json()},
            after={"version": number, **policy.as_json()},
        )
    return StoredPolicy(account.name, number, policy, now, principal.actor)
