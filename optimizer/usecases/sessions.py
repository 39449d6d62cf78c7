"""Dashboard sessions that ended at sign-out: a revocation list, so a copied cookie dies with it.

The cookie itself is signed and carries a random session id; signing out records the id's SHA-256
here until the cookie would have expired anyway, and every signed-in request checks the list.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Engine, delete, insert, select

from optimizer.store.engine import transaction
from optimizer.store.tables import ended_sessions

__all__ = ["end_session", "session_ended"]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def end_session(engine: Engine, session_id: str, expires_at: dt.datetime) -> None:
    """Refuse the session from now on (idempotent); drop entries whose cookies have expired."""
    now = dt.datetime.now(dt.UTC)
    digest = _digest(session_id)
    with transaction(engine) as connection:
        connection.execute(delete(ended_sessions).where(ended_sessions.c.expires_at < now))
        found = connection.execute(
            select(ended_sessions.c.session_sha256).where(ended_sessions.c.session_sha256 == digest)
        ).first()
        if found is None:
            connection.execute(
                insert(ended_sessions).values(
                    session_sha256=digest, ended_at=now, expires_at=expires_at
                )
            )


def session_ended(engine: Engine, session_id: str) -> bool:
    with transaction(engine) as connection:
        found = connection.execute(
            select(ended_sessions.c.session_sha256).where(
                ended_sessions.c.session_sha256 == _digest(session_id)
            )
        ).first()
    return found is not None
