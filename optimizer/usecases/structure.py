"""The account's Google Ads structure as the ad script sends it: checked, stored once, audited.

Idempotent: the script sends the structure on every run; the same structure again changes nothing
(no new row, no audit entry), a different one replaces it (audited with the digest it replaces).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from optimizer.access import Action, Principal, require, require_account
from optimizer.platform.structure import PlatformStructure, parse_structure
from optimizer.solver import SharedBudget
from optimizer.store.engine import transaction
from optimizer.store.tables import platform_structures
from optimizer.usecases.accounts import find_account
from optimizer.usecases.audit import record

__all__ = ["StoredStructure", "load_structure", "put_structure", "shared_budgets_for"]


@dataclass(frozen=True, eq=False)
class StoredStructure:
    account: str
    structure: PlatformStructure
    digest: str
    received_at: dt.datetime
    received_by: str
    changed: bool


def put_structure(
    engine: Engine, principal: Principal, account_name: str, data: Mapping[str, Any]
) -> StoredStructure:
    """Check `data` (InvalidInputError names the field) and keep it as the account's structure."""
    require(principal, Action.STRUCTURE_WRITE)
    structure = parse_structure(data)
    text = json.dumps(structure.as_json(), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        before = connection.execute(
            select(platform_structures).where(platform_structures.c.account_id == account.id)
        ).one_or_none()
        if before is not None and before.digest == digest:
            return StoredStructure(
                account.name, structure, digest, _aware(before.received_at),
                before.received_by, changed=False,
            )  # fmt: skip
        values = {
            "digest": digest,
            "structure": text,
            "received_at": now,
            "received_by": principal.actor,
        }
        if before is None:
            connection.execute(insert(platform_structures).values(account_id=account.id, **values))
        else:
            connection.execute(
                update(platform_structures)
                .where(platform_structures.c.account_id == account.id)
                .values(**values)
            )
        record(
            connection,
            principal,
            "structure.put",
            f"account {account.name} structure",
            account_id=account.id,
            before=None if before is None else {"digest": before.digest},
            after={
                "digest": digest,
                "campaigns": len(structure.campaigns),
                "keywords": len(structure.keywords),
                "shared_budgets": len(structure.shared_budgets()),
            },
        )
    return StoredStructure(account.name, structure, digest, now, principal.actor, changed=True)


def load_structure(connection: Connection, account_id: int) -> PlatformStructure | None:
    """The structure the script last sent (None: never sent); read in the caller's transaction."""
    text = connection.execute(
        select(platform_structures.c.structure).where(
            platform_structures.c.account_id == account_id
        )
    ).scalar_one_or_none()
    return None if text is None else parse_structure(json.loads(text))


def shared_budgets_for(
    structure: PlatformStructure, table: pd.DataFrame
) -> tuple[SharedBudget, ...]:
    """The structure's shared budgets among the curve table's campaigns, split as the members'
    recent spend is (see `SharedBudget`); publish and the what-if plan both use it."""
    spend = table.groupby(table["campaign"].fillna("").astype(str))["current_spend"].sum()
    out = []
    for shared in structure.shared_budgets():
        present = [c for c in shared.campaigns if c in spend.index]
        if len(present) >= 2:
            shares = {c: float(spend[c]) for c in present}
            out.append(SharedBudget(shared.budget_name or shared.budget_id, shares))
    return tuple(out)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
