"""Engines for SQLite and PostgreSQL, schema migrations, and the transaction boundary.

`transaction` (with `single_read` and the event loop's `AsyncReader`) is the one place where "the
database cannot be reached" (SQLAlchemy's or psycopg's OperationalError on connect, a dropped
connection, a locked SQLite file, a full disk) becomes `StoreUnavailableError`, and a value the
database cannot hold (NUL characters on PostgreSQL, lone surrogates, numbers out of range) becomes
`InvalidInputError`: callers never see driver errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Connection, Engine, Select, create_engine, event, text
from sqlalchemy.engine import URL, Compiled, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

from optimizer.errors import InvalidInputError, StoreUnavailableError
from optimizer.settings import get_settings

__all__ = [
    "AsyncReader",
    "is_current",
    "make_async_reader",
    "make_engine",
    "single_read",
    "take_write_lock",
    "transaction",
    "upgrade",
]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_SQLITE_BUSY_TIMEOUT_MS = 10_000
_POSTGRES_CONNECT_TIMEOUT_S = 10
_POLL_WAIT_S = 5.0
# Sizes come from settings (default per process: 5 kept open, up to 5 more under bursts, and in a
# server process up to 5 async ones for polls, so 6 processes stay within PostgreSQL's default
# max_connections=100 with room for psql and migrations; a caller waits up to 30 s for one).
# Connections are replaced after 30 min so firewalls and PgBouncer never see stale ones; pre-ping
# drops connections the server closed.
_POSTGRES_POOL: dict[str, Any] = {
    "poolclass": QueuePool,
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}
# Any constant works: it only has to be the same for every process migrating one database.
_MIGRATION_LOCK_KEY = 0x7070636F7074


def make_engine(url: str | None = None, *, schema: str | None = None) -> Engine:
    """An engine for `url` (default: the configured `PPCOPT_DATABASE_URL`); connects lazily.

    `postgresql://` URLs use psycopg 3. `schema` (PostgreSQL only) puts every table in that schema,
    which lets tests and benchmarks share one database.
    """
    settings = get_settings()
    parsed = _parse(url if url is not None else settings.database_url)
    backend = parsed.get_backend_name()
    if schema is not None and backend != "postgresql":
        raise InvalidInputError(f"a schema can only be chosen on PostgreSQL, not on {backend}")
    try:
        if backend == "sqlite":
            _create_parent_folder(parsed)
            engine = create_engine(parsed)
            _configure_sqlite(engine)
            return engine
        return create_engine(
            parsed,
            connect_args=_postgres_connect_args(parsed, schema),
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_seconds,
            **_POSTGRES_POOL,
        )
    except NoSuchModuleError as exc:
        raise InvalidInputError(f"unsupported database URL '{_shown(parsed)}': {exc}") from exc


def _postgres_connect_args(url: URL, schema: str | None) -> dict[str, Any]:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = _POSTGRES_CONNECT_TIMEOUT_S
    if schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    return connect_args


class AsyncReader:
    """Single-statement reads on PostgreSQL that never leave the event loop: psycopg's async
    connections from a psycopg_pool pool, in autocommit.

    For the API's hot path (ad scripts' polls). Through the synchronous engine a poll costs a
    trip to a worker thread and SQLAlchemy's execution path; measured, this is about 0.1 ms of
    CPU per read instead of 0.3 ms plus the thread hop. Statements are SQLAlchemy Core, compiled
    once for psycopg. Errors are translated as in `transaction`; a read that finds its pooled
    connection dead (the server restarted or ended it) is retried once on a new one, which is
    what pre-ping does for the synchronous pool. A read waits at most 5 s for a connection
    (less if `PPCOPT_DATABASE_POOL_TIMEOUT_SECONDS` is lower): the pool keeps reconnecting in
    the background, so while the database is unreachable that wait is the time to the 503.
    """

    def __init__(self, url: URL, schema: str | None) -> None:
        settings = get_settings()
        dialect = url.get_dialect()()
        _, params = dialect.create_connect_args(url)
        self._dialect = dialect
        self._shown = _shown(url)
        self._timeout = min(settings.database_pool_timeout_seconds, _POLL_WAIT_S)
        self._compiled: dict[int, tuple[Select[Any], Compiled]] = {}
        self._pool = AsyncConnectionPool(
            kwargs={**params, **_postgres_connect_args(url, schema), "autocommit": True},
            min_size=1,
            max_size=settings.database_pool_size,
            timeout=self._timeout,
            open=False,
        )

    async def open(self) -> None:
        await self._pool.open()

    async def close(self) -> None:
        await self._pool.close()

    async def one_or_none(self, statement: Select[Any], params: dict[str, Any]) -> Any | None:
        """The statement's single row (attributes named like its columns), or None."""
        compiled = self._compile(statement)
        sql, values = str(compiled), compiled.construct_params(params)
        try:
            for attempt in (1, 2):
                async with self._pool.connection(timeout=self._timeout) as connection:
                    try:
                        cursor = connection.cursor(row_factory=namedtuple_row)
                        await cursor.execute(sql, values)
                        return await cursor.fetchone()
                    except psycopg.OperationalError:
                        if attempt == 1 and connection.broken:
                            continue
                        raise
        except PoolTimeout as exc:
            raise StoreUnavailableError(
                f"the database {self._shown} is unavailable right now (no free or new "
                f"connection within {self._timeout:g} s); try again shortly",
                retry_after_seconds=10,
            ) from exc
        except psycopg.OperationalError as exc:
            raise _unavailable_reason(self._shown, exc) from exc
        except (psycopg.DataError, UnicodeEncodeError) as exc:
            raise _unstorable(exc) from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _compile(self, statement: Select[Any]) -> Compiled:
        cached = self._compiled.get(id(statement))
        if cached is None or cached[0] is not statement:
            cached = (statement, statement.compile(dialect=self._dialect))
            self._compiled[id(statement)] = cached
        return cached[1]


def make_async_reader(url: str | None = None, *, schema: str | None = None) -> AsyncReader | None:
    """An `AsyncReader` for a PostgreSQL URL (default: the configured one), None for SQLite."""
    parsed = _parse(url if url is not None else get_settings().database_url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return AsyncReader(parsed, schema)


def take_write_lock(connection: Connection) -> None:
    """On SQLite, take the database's write lock before the transaction's first read: a
    transaction that reads and then writes is refused at once (SQLITE_BUSY, no wait) while another
    writer holds the lock, whereas one that asks for the lock first waits its turn (the busy
    timeout). Nothing elsewhere: PostgreSQL locks rows, not the database."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("DELETE FROM job_locks WHERE 0"))


def _pool_timeout(engine: Engine) -> float:
    pool = engine.pool
    return float(pool.timeout()) if isinstance(pool, QueuePool) else 0.0


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration, or to `revision` (a no-op when it is there).
    One head: a forked chain fails here rather than applying in an order nobody chose."""
    config = _alembic_config()
    with transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def is_current(engine: Engine) -> bool:
    """True when the database has every migration this code knows (and nothing newer)."""
    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    with transaction(engine) as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    return applied == heads


@contextmanager
def transaction(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on any error.

    `snapshot=True`: every statement sees the same state of the database (REPEATABLE READ on
    PostgreSQL; SQLite's transactions already do), for reads spread over several statements.
    """
    connection = _checkout(engine)
    if snapshot and engine.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    with connection, _translated(engine), connection.begin():
        yield connection


@contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for exactly one read-only statement, outside any explicit transaction.

    On PostgreSQL this saves the BEGIN and COMMIT round trips (a third of an ad script's poll);
    one statement always sees one consistent snapshot, so nothing is lost. SQLite reads in its
    usual transaction. Errors are translated as in `transaction`.
    """
    connection = _checkout(engine)
    if engine.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    with connection, _translated(engine):
        yield connection


def _checkout(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except OperationalError as exc:
        raise _unavailable(engine, exc) from exc
    except PoolTimeoutError as exc:
        raise StoreUnavailableError(
            f"every connection to the database {_shown(engine.url)} stayed busy for "
            f"{_pool_timeout(engine):g} s; try again shortly",
            retry_after_seconds=10,
        ) from exc


@contextmanager
def _translated(engine: Engine) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated or _sqlite_error(exc) in _SQLITE_UNAVAILABLE:
            raise _unavailable(engine, exc) from exc
        if isinstance(exc, DataError):
            raise _unstorable(exc.orig) from exc
        raise
    except StatementError as exc:
        if isinstance(exc.orig, UnicodeError):
            raise _unstorable(exc.orig) from exc
        raise
    except UnicodeEncodeError as exc:
        raise _unstorable(exc) from exc


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(f"'{url}' is not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _create_parent_folder(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    """Pragmas on every new connection, and a real BEGIN so transactions cover reads and DDL too."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS).replace("%", "%%"))
    return config


_SQLITE_UNAVAILABLE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL"})


def _sqlite_error(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlite_errorname", ""))


def _unstorable(exc: BaseException | None) -> InvalidInputError:
    text = str(exc).strip()
    reason = text.splitlines()[0][:200] if text else type(exc).__name__
    return InvalidInputError(
        f"a value cannot be stored ({reason}); remove NUL and other control characters, "
        "and keep numbers within range"
    )


def _unavailable(engine: Engine, exc: DBAPIError) -> StoreUnavailableError:
    return _unavailable_reason(_shown(engine.url), exc.orig or exc)


def _unavailable_reason(shown: str, exc: BaseException) -> StoreUnavailableError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreUnavailableError(
        f"the database {shown} is unavailable right now ({reason}); try again shortly"
    )


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)
