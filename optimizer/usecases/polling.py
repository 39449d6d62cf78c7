"""An ad script's poll for the latest recommendation, answered with one database statement.

Scripts poll often and almost always find the recommendation they already have, so this is the
service's hot path. The key check, the account's scope and the latest recommendation's id come
from one read instead of two transactions of several statements each. It is still checked on every
request: a revoked key fails on the very next poll, and a new recommendation is seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, Select, bindparam, exists, func, or_, select

from optimizer.access import Action, Principal, Role, require, require_account
from optimizer.store.engine import AsyncReader, single_read
from optimizer.store.tables import accounts, api_key_accounts, api_keys, recommendations
from optimizer.usecases.accounts import unknown_account
from optimizer.usecases.keys import check_key, key_prefix
from optimizer.usecases.recommendations import nothing_published

__all__ = ["PublishedRef", "latest_for_key", "latest_for_key_async"]


@dataclass(frozen=True, slots=True)
class PublishedRef:
    """Which recommendation is the latest: enough to answer a conditional request, or to find an
    already rendered copy (published recommendations never change)."""

    id: int
    etag: str
    principal: Principal
    """The key's principal, its scope narrowed to this account (all this read checked)."""


def latest_for_key(engine: Engine, plaintext_key: str, account_name: str) -> PublishedRef:
    """The latest recommendation of `account_name` as `plaintext_key` may see it.

    Fails exactly as `authenticate` followed by `latest` would, in the same order: an unknown or
    revoked key, a role that may not read, an unknown account or one outside the key's scope
    (not found), nothing published yet.
    """
    prefix = key_prefix(plaintext_key)
    row: Row[Any] | None = None
    if prefix is not None:
        with single_read(engine) as connection:
            row = connection.execute(_STATEMENT, _params(prefix, account_name)).one_or_none()
    return _decide(plaintext_key, row, account_name)


async def latest_for_key_async(
    reader: AsyncReader, plaintext_key: str, account_name: str
) -> PublishedRef:
    """`latest_for_key` on PostgreSQL without leaving the event loop (same answers, same errors)."""
    prefix = key_prefix(plaintext_key)
    row = None
    if prefix is not None:
        row = await reader.one_or_none(_STATEMENT, _params(prefix, account_name))
    return _decide(plaintext_key, row, account_name)


def _params(prefix: str, account_name: str) -> dict[str, str]:
    return {"prefix": prefix, "account": account_name.strip()}


def _decide(plaintext_key: str, found: Any | None, account_name: str) -> PublishedRef:
    row = check_key(plaintext_key, found)
    name = account_name.strip()
    account_id = None if row.account_id is None else int(row.account_id)
    in_scope = frozenset({account_id}) if account_id is not None and row.in_scope else frozenset()
    principal = Principal(
        role=Role(row.role),
        label=row.label,
        key_id=int(row.id),
        account_ids=None if row.all_accounts else in_scope,
        user_id=int(row.user_id),
    )
    require(principal, Action.RECOMMENDATION_READ)
    if account_id is None:
        raise unknown_account(name)
    require_account(principal, account_id, name)
    if row.rec_id is None:
        raise nothing_published(account_name)
    return PublishedRef(id=int(row.rec_id), etag=str(row.etag), principal=principal)


def _statement() -> Select[Any]:
    """Built once: building it costs more than running it."""
    newest = recommendations.alias("newest")
    latest_id = (
        select(func.max(newest.c.id))
        .where(newest.c.account_id == accounts.c.id)
        .correlate(accounts)
        .scalar_subquery()
    )
    scoped = exists().where(
        api_key_accounts.c.key_id == api_keys.c.id,
        api_key_accounts.c.account_id == accounts.c.id,
    )
    return (
        select(
            api_keys.c.id,
            api_keys.c.secret_sha256,
            api_keys.c.revoked_at,
            api_keys.c.role,
            api_keys.c.label,
            api_keys.c.all_accounts,
            api_keys.c.user_id,
            accounts.c.id.label("account_id"),
            or_(api_keys.c.all_accounts, scoped).label("in_scope"),
            recommendations.c.id.label("rec_id"),
            recommendations.c.etag,
        )
        .select_from(
            api_keys.outerjoin(accounts, accounts.c.name == bindparam("account")).outerjoin(
                recommendations, recommendations.c.id == latest_id
            )
        )
        .where(api_keys.c.prefix == bindparam("prefix"))
    )


_STATEMENT = _statement()
