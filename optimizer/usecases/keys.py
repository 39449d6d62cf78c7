"""API keys: created once and shown once, stored as a SHA-256 hash, scoped to accounts, revocable.

A key is `ppc_<prefix>_<secret>`: the prefix finds the row, the hash of the whole key is compared in
constant time. The secret has 256 bits of entropy, so a fast hash is safe (nothing to brute-force).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from optimizer.access import Action, Principal, Role, require
from optimizer.errors import AuthenticationError, InvalidInputError, NotFoundError
from optimizer.store.engine import transaction
from optimizer.store.tables import accounts, api_key_accounts, api_keys, users
from optimizer.usecases.audit import record
from optimizer.usecases.users import ensure_user

__all__ = [
    "ApiKey",
    "authenticate",
    "check_key",
    "create_key",
    "key_prefix",
    "list_keys",
    "principal_for_key_id",
    "revoke_key",
]

_PREFIX = "ppc_"
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed (never with its secret)."""

    id: int
    prefix: str
    role: Role
    label: str
    accounts: tuple[str, ...] | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    user: str = ""
    created_by: str | None = None


def create_key(
    engine: Engine,
    principal: Principal,
    *,
    role: Role,
    label: str,
    account_names: Sequence[str] = (),
    all_accounts: bool = False,
    user: str | None = None,
) -> tuple[ApiKey, str]:
    """The new key's record and its plaintext, which is never stored and cannot be shown again.

    The key belongs to `user` (default: the person its label names), who is created with `role`
    when new; a user has one role, so an admin's own user never holds a finance key. The creator
    is recorded on the key."""
    require(principal, Action.KEYS_MANAGE)
    clean_label = label.strip()
    if not clean_label or len(clean_label) > 200:
        raise InvalidInputError("a key needs a label of 1 to 200 characters (who or what uses it)")
    if role is Role.ADMIN:
        if account_names:
            # Refused, not widened: creating accounts and keys cannot be limited to accounts,
            # so a scope on an admin key would promise a limit that does not hold.
            raise InvalidInputError(
                "an admin key covers every account (it creates accounts and manages keys, which "
                "no account scope limits); create it without accounts, or make a manager or "
                "finance key for these accounts"
            )
        all_accounts = True
    if not all_accounts and not account_names:
        raise InvalidInputError(
            "name the accounts the key may use (--account NAME), or give it all accounts"
        )
    prefix = secrets.token_hex(4)
    plaintext = f"{_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        owner = ensure_user(connection, principal, clean_label if user is None else user, role)
        ids = _account_ids(connection, account_names)
        key_id = connection.execute(
            insert(api_keys)
            .values(
                prefix=prefix,
                secret_sha256=_digest(plaintext),
                role=role.value,
                label=clean_label,
                all_accounts=all_accounts,
                created_at=now,
                user_id=owner.id,
                created_by=principal.actor,
                created_by_user_id=principal.user_id,
            )
            .returning(api_keys.c.id)
        ).scalar_one()
        if not all_accounts:
            connection.execute(
                insert(api_key_accounts),
                [{"key_id": key_id, "account_id": i} for i in sorted(set(ids.values()))],
            )
        created = ApiKey(
            id=int(key_id),
            prefix=prefix,
            role=role,
            label=clean_label,
            accounts=None if all_accounts else tuple(sorted(ids)),
            created_at=now,
            revoked_at=None,
            user=owner.name,
            created_by=principal.actor,
        )
        record(connection, principal, "key.create", f"key {key_id}", after=_shown(created))
    return created, plaintext


def list_keys(engine: Engine, principal: Principal) -> list[ApiKey]:
    require(principal, Action.KEYS_MANAGE)
    with transaction(engine) as connection:
        rows = connection.execute(
            select(api_keys, users.c.name.label("user_name"))
            .join(users, users.c.id == api_keys.c.user_id)
            .order_by(api_keys.c.id)
        ).all()
        scopes = _scopes(connection)
    return [
        ApiKey(
            id=int(r.id),
            prefix=r.prefix,
            role=Role(r.role),
            label=r.label,
            accounts=None if r.all_accounts else tuple(sorted(scopes.get(int(r.id), []))),
            created_at=r.created_at,
            revoked_at=r.revoked_at,
            user=r.user_name,
            created_by=r.created_by,
        )
        for r in rows
    ]


def revoke_key(engine: Engine, principal: Principal, key_id: int) -> None:
    """Revoked keys fail from the next request on; revoking twice is harmless."""
    require(principal, Action.KEYS_MANAGE)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        row = connection.execute(
            select(api_keys.c.id, api_keys.c.revoked_at).where(api_keys.c.id == key_id)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no API key with id {key_id}")
        if row.revoked_at is not None:
            return
        connection.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
        record(
            connection,
            principal,
            "key.revoke",
            f"key {key_id}",
            before={"revoked_at": None},
            after={"revoked_at": now.isoformat()},
        )


def authenticate(engine: Engine, plaintext: str) -> Principal:
    """The principal of an active key, or AuthenticationError (same message for every failure)."""
    prefix = key_prefix(plaintext)
    with transaction(engine) as connection:
        row = (
            None
            if prefix is None
            else connection.execute(
                select(api_keys).where(api_keys.c.prefix == prefix)
            ).one_or_none()
        )
        return _principal(connection, check_key(plaintext, row))


def key_prefix(plaintext: str) -> str | None:
    """The public part of a key that finds its row; None when the text cannot be a key."""
    parts = plaintext.split("_")
    if len(parts) < 3 or not plaintext.startswith(_PREFIX) or len(plaintext) > 200:
        return None
    return parts[1]


def check_key(plaintext: str, row: Any | None) -> Any:
    """`row` (an `api_keys` row found by the key's prefix, or None) if it is this key and active,
    else AuthenticationError. The hash is compared even without a row, so timing reveals nothing."""
    stored = _DUMMY_HASH if row is None else row.secret_sha256
    matches = hmac.compare_digest(_digest(plaintext), stored)
    if row is None or not matches or row.revoked_at is not None:
        raise AuthenticationError(
            "the API key is missing, unknown or revoked; send `Authorization: Bearer KEY` "
            "with an active key (an admin creates one with `ppcopt keys create`)"
        )
    return row


def principal_for_key_id(engine: Engine, key_id: int) -> Principal:
    """The principal of an active key by id, looked up again on every dashboard request: a
    session keeps only the key id, so revoking the key ends its sessions at once."""
    with transaction(engine) as connection:
        row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).one_or_none()
        if row is None or row.revoked_at is not None:
            raise AuthenticationError(
                "the API key of this session was revoked or removed; sign in with an active key"
            )
        return _principal(connection, row)


def _principal(connection: Connection, row: Any) -> Principal:
    ids = (
        None
        if row.all_accounts
        else frozenset(
            int(a)
            for a in connection.execute(
                select(api_key_accounts.c.account_id).where(api_key_accounts.c.key_id == row.id)
            ).scalars()
        )
    )
    name = connection.execute(select(users.c.name).where(users.c.id == row.user_id)).scalar_one()
    return Principal(
        role=Role(row.role),
        label=row.label,
        key_id=int(row.id),
        account_ids=ids,
        user_id=int(row.user_id),
        user=name,
    )


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def _account_ids(connection: Connection, names: Sequence[str]) -> dict[str, int]:
    wanted = {n.strip() for n in names}
    rows = connection.execute(
        select(accounts.c.name, accounts.c.id).where(accounts.c.name.in_(sorted(wanted)))
    ).all()
    found = {r.name: int(r.id) for r in rows}
    missing = sorted(wanted - set(found))
    if missing:
        raise NotFoundError(f"no account named {', '.join(repr(m) for m in missing)}")
    return found


def _scopes(connection: Connection) -> dict[int, list[str]]:
    rows = connection.execute(
        select(api_key_accounts.c.key_id, accounts.c.name).join(
            accounts, accounts.c.id == api_key_accounts.c.account_id
        )
    ).all()
    scopes: dict[int, list[str]] = {}
    for r in rows:
        scopes.setdefault(int(r.key_id), []).append(r.name)
    return scopes


def _shown(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "role": key.role.value,
        "label": key.label,
        "accounts": key.accounts,
        "user": key.user,
        "created_by": key.created_by,
    }
