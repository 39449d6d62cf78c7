"""The append-only audit log: every write says who, what, when, before and after."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from optimizer.access import Action, Principal, no_such_account, require, require_account
from optimizer.errors import InvalidInputError
from optimizer.store.audit_chain import GENESIS, chain_lock, last_hash, row_hash
from optimizer.store.engine import transaction
from optimizer.store.tables import accounts, audit_log

__all__ = ["AuditCheck", "AuditEntry", "list_audit", "record", "verify_audit"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    account_id: int | None
    target: str
    before: Any
    after: Any


def record(
    connection: Connection,
    principal: Principal,
    action: str,
    target: str,
    *,
    account_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Write one entry in the caller's transaction, so the change and its record commit together.

    The entry is chained to the one before it; on PostgreSQL other writers of the log wait from
    here until the caller's transaction ends, so the chain never forks."""
    row: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC),
        "actor": principal.actor,
        "actor_key_id": principal.key_id,
        "role": principal.role.value,
        "action": action,
        "account_id": account_id,
        "target": target,
        "before": None if before is None else json.dumps(before, default=str, sort_keys=True),
        "after": None if after is None else json.dumps(after, default=str, sort_keys=True),
    }
    chain_lock(connection)
    prev = last_hash(connection)
    connection.execute(
        insert(audit_log).values(**row, prev_hash=prev, row_hash=row_hash(prev, row))
    )


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """What `verify_audit` found: how many rows it checked and the first bad one, if any."""

    rows: int
    bad_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_id is None


def verify_audit(engine: Engine) -> AuditCheck:
    """Walk the chain oldest first: every row's hash must match its content and the row before's
    hash. The first row that does not (edited, or the one after a deleted row) is named."""
    prev = GENESIS
    count = 0
    with transaction(engine, snapshot=True) as connection:
        result = connection.execute(select(audit_log).order_by(audit_log.c.id))
        for row in result.mappings():
            count += 1
            if row["prev_hash"] != prev:
                reason = (
                    "is not chained (no hash)"
                    if row["prev_hash"] is None
                    else "does not follow the row before it: a row before it was deleted or edited"
                )
                return AuditCheck(count, int(row["id"]), reason)
            if row["row_hash"] != row_hash(prev, row):
                return AuditCheck(
                    count, int(row["id"]), "was edited: its content no longer matches its hash"
                )
            prev = str(row["row_hash"])
    return AuditCheck(count)


def _visible_id(connection: Connection, principal: Principal, name: str) -> int:
    """The id of the named account if the principal may see it (one answer for missing and
    hidden); looked up here, not through `accounts`, which records through this module."""
    found = connection.execute(
        select(accounts.c.id).where(accounts.c.name == name.strip())
    ).scalar_one_or_none()
    if found is None:
        raise no_such_account(name.strip())
    require_account(principal, int(found), name.strip())
    return int(found)


def list_audit(
    engine: Engine,
    principal: Principal,
    *,
    account: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first; a scoped key sees only its accounts' entries.

    The role is checked before the account is looked up, so a key that may not read the audit
    cannot use `account` to learn which accounts exist."""
    require(principal, Action.AUDIT_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInputError("limit must be between 1 and 1000")
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if principal.account_ids is not None:
        query = query.where(audit_log.c.account_id.in_(sorted(principal.account_ids)))
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    with transaction(engine) as connection:
        if account is not None:
            query = query.where(
                audit_log.c.account_id == _visible_id(connection, principal, account)
            )
        rows = connection.execute(query).all()
    return [
        AuditEntry(
            id=int(r.id),
            at=_utc(r.at),
            actor=r.actor,
            role=r.role,
            action=r.action,
            account_id=None if r.account_id is None else int(r.account_id),
            target=r.target,
            before=None if r.before is None else json.loads(r.before),
            after=None if r.after is None else json.loads(r.after),
        )
        for r in rows
    ]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
