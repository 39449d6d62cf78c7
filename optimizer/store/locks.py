"""One run at a time per account, across processes: an advisory lock on PostgreSQL, a row on SQLite.

PostgreSQL drops a session's advisory locks when its connection ends, so a killed run never blocks
the next one. SQLite has no lock that outlives a transaction, and holding a write transaction for a
whole run would block every other writer, so the lock is a `job_locks` row naming its holder
(host:pid:token) with an expiry that a heartbeat pushes forward while the run lasts. The row is
stale once it has expired, or at once when its holder ran on this host and that process is gone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import transaction
from optimizer.store.tables import job_locks

__all__ = ["LOCK_TTL", "account_lock", "runner_name"]

LOCK_TTL = dt.timedelta(minutes=10)
"""How long a SQLite lock row outlives its last heartbeat (a crashed holder on another host)."""

_POLL_SECONDS = 0.5
_INT4 = 2**31

_log = logging.getLogger("ppcopt.jobs")


def runner_name() -> str:
    """host:pid of this process, as written in job records and lock rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def account_lock(
    engine: Engine, account_id: int, *, wait_seconds: float = 0.0, ttl: dt.timedelta = LOCK_TTL
) -> Iterator[bool]:
    """Hold the account's run lock for the block: yields True, or False when another process or
    thread still holds it after `wait_seconds`."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, account_id, wait_seconds) as held:
            yield held
    else:
        with _row_lock(engine, account_id, wait_seconds, ttl) as held:
            yield held


@contextmanager
def _advisory_lock(engine: Engine, account_id: int, wait_seconds: float) -> Iterator[bool]:
    params = {"key": account_id % _INT4}
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise StoreUnavailableError(f"cannot lock the account: {exc.orig}") from exc
    held = False
    try:
        held = _poll(
            wait_seconds, lambda: _try_advisory(connection, "pg_try_advisory_lock", params)
        )
        yield held
    finally:
        _release_advisory(connection, params, held=held)


def _try_advisory(connection: Connection, function: str, params: dict[str, int]) -> bool:
    """Advisory locks are database-wide: the first half of the key names the schema, so stores in
    different schemas of one database (account ids repeat across them) never block each other."""
    got = connection.execute(
        text(
            f"SELECT {function}(hashtext('ppcopt-job:' || current_schema()), CAST(:key AS integer))"
        ),
        params,
    ).scalar_one()
    connection.commit()
    return bool(got)


def _release_advisory(connection: Connection, params: dict[str, int], *, held: bool) -> None:
    try:
        if held:
            _try_advisory(connection, "pg_advisory_unlock", params)
    except DBAPIError:
        # A connection that cannot unlock must not go back to the pool still holding the lock.
        connection.invalidate()
    finally:
        connection.close()


@contextmanager
def _row_lock(
    engine: Engine, account_id: int, wait_seconds: float, ttl: dt.timedelta
) -> Iterator[bool]:
    holder = f"{runner_name()}:{uuid.uuid4().hex[:8]}"
    if not _poll(wait_seconds, lambda: _try_take_row(engine, account_id, holder, ttl)):
        yield False
        return
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(engine, account_id, holder, ttl, stop),
        name=f"lock-heartbeat-{account_id}",
        daemon=True,
    )
    beat.start()
    try:
        yield True
    finally:
        stop.set()
        beat.join()
        try:
            with transaction(engine) as connection:
                connection.execute(
                    delete(job_locks).where(
                        job_locks.c.account_id == account_id, job_locks.c.holder == holder
                    )
                )
        except StoreUnavailableError:
            _log.warning("could not release the run lock of account %s; it expires", account_id)


def _try_take_row(engine: Engine, account_id: int, holder: str, ttl: dt.timedelta) -> bool:
    now = dt.datetime.now(dt.UTC)
    try:
        with transaction(engine) as connection:
            # A write first takes SQLite's write lock before the read, so the read cannot go stale.
            connection.execute(
                delete(job_locks).where(
                    job_locks.c.account_id == account_id, job_locks.c.holder == holder
                )
            )
            row = connection.execute(
                select(job_locks.c.holder, job_locks.c.expires_at).where(
                    job_locks.c.account_id == account_id
                )
            ).one_or_none()
            if row is not None:
                if not _stale(row.holder, _utc(row.expires_at), now):
                    return False
                _log.warning(
                    "taking over the stale run lock of account %s from %s", account_id, row.holder
                )
                connection.execute(
                    delete(job_locks).where(
                        job_locks.c.account_id == account_id, job_locks.c.holder == row.holder
                    )
                )
            connection.execute(
                insert(job_locks).values(
                    account_id=account_id, holder=holder, acquired_at=now, expires_at=now + ttl
                )
            )
    except IntegrityError:
        return False
    return True


def _stale(holder: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
    if expires_at < now:
        return True
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    return host == socket.gethostname() and pid_text.isdigit() and not _alive(int(pid_text))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _heartbeat(
    engine: Engine, account_id: int, holder: str, ttl: dt.timedelta, stop: threading.Event
) -> None:
    while not stop.wait(ttl.total_seconds() / 3):
        try:
            with transaction(engine) as connection:
                connection.execute(
                    update(job_locks)
                    .where(job_locks.c.account_id == account_id, job_locks.c.holder == holder)
                    .values(expires_at=dt.datetime.now(dt.UTC) + ttl)
                )
        except StoreUnavailableError as exc:
            _log.warning("run lock heartbeat of account %s failed: %s", account_id, exc.message)


def _poll(wait_seconds: float, attempt: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        if attempt():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
