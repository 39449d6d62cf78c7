"""A signed-in dashboard session's key, looked up again on every request.

The dashboard never keeps a key's plaintext: a session only remembers the key id, and each page
asks here whether that key is still active, so revoking a key ends its sessions at once.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from optimizer.access import Principal, Role
from optimizer.errors import AuthenticationError
from optimizer.store.engine import transaction
from optimizer.store.tables import api_key_accounts, api_keys

__all__ = ["principal_for_key_id"]


def principal_for_key_id(engine: Engine, key_id: int) -> Principal:
    """The principal of an active key by id; AuthenticationError when it is gone or revoked."""
    with transaction(engine) as connection:
        row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).one_or_none()
        if row is None or row.revoked_at is not None:
            raise AuthenticationError(
                "the API key of this session was revoked or removed; sign in with an active key"
            )
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
    return Principal(role=Role(row.role), label=row.label, key_id=int(row.id), account_ids=ids)
