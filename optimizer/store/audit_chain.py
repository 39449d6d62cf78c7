"""The audit log's hash chain: each row stores the SHA-256 of its content and of the row before.

Editing a row changes its hash; deleting one leaves the next row pointing at a hash that is no
longer there. The content is canonical JSON of the row as stored (time in UTC to the microsecond,
`before`/`after` as their stored JSON text), so the same row hashes the same on SQLite and
PostgreSQL, when written and when verified. `id` is left out: PostgreSQL sequences skip numbers
when a transaction rolls back, so a gap in ids is no evidence; the links are.

Writers take `chain_lock` before reading the last hash, so concurrent writers append one after
the other and never fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, text

from optimizer.store.tables import audit_log

__all__ = ["GENESIS", "chain_lock", "last_hash", "row_hash"]

GENESIS = "0" * 64
"""The `prev_hash` of the first row."""

_CHAIN_LOCK_KEY = 0x7070636F6175
_FIELDS = (
    "at",
    "actor",
    "actor_key_id",
    "role",
    "action",
    "account_id",
    "target",
    "before",
    "after",
)


def row_hash(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """The SHA-256 (hex) of a row's canonical content and the previous row's hash."""
    content = {name: _canonical(name, row[name]) for name in _FIELDS}
    content["prev_hash"] = prev_hash
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def chain_lock(connection: Connection) -> None:
    """Serialise appends to the chain until the caller's transaction ends: an advisory lock on
    PostgreSQL; on SQLite the database's write lock, taken now (a statement that writes nothing),
    so the last hash is read by the one writer, not from a snapshot another writer outdates."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
        return
    connection.execute(text("DELETE FROM audit_log WHERE 0"))


def last_hash(connection: Connection) -> str:
    """The newest row's hash (GENESIS for an empty log); call after `chain_lock`."""
    found = connection.execute(
        select(audit_log.c.row_hash).order_by(audit_log.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    return GENESIS if found is None else str(found)


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at":
        return _utc_text(value)
    if name in ("actor_key_id", "account_id"):
        return int(value)
    return str(value)


def _utc_text(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
