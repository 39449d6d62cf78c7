"""The event-loop reader behind ad scripts' polls on PostgreSQL: a connection the server ended is
replaced without an error, an unreachable database is a `StoreUnavailableError`, values the
database refuses are invalid input, and SQLite has no such reader."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, literal, select, text
from sqlalchemy.engine import make_url

from optimizer.errors import InvalidInputError, StoreUnavailableError
from optimizer.settings import get_settings
from optimizer.store.engine import AsyncReader, make_async_reader, transaction
from tests.api.harness import free_port
from tests.conftest import POSTGRES_URL, _require_postgres
from tests.stores import postgres_schema

pytestmark = pytest.mark.postgres

_PID = select(func.pg_backend_pid().label("pid"))


@pytest.fixture
def quick_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PPCOPT_DATABASE_POOL_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _reader(url: str, schema: str | None = None) -> AsyncReader:
    reader = make_async_reader(url, schema=schema)
    assert reader is not None
    return reader


def test_a_connection_the_server_ended_is_replaced_without_an_error() -> None:
    _require_postgres()
    with postgres_schema(POSTGRES_URL) as (engine, schema):

        async def scenario() -> tuple[int, int]:
            reader = _reader(POSTGRES_URL, schema)
            await reader.open()
            try:
                first = await reader.one_or_none(_PID, {})
                with transaction(engine) as connection:
                    connection.execute(
                        text("SELECT pg_terminate_backend(:pid)"), {"pid": first.pid}
                    )
                await asyncio.sleep(0.2)
                second = await reader.one_or_none(_PID, {})
                return int(first.pid), int(second.pid)
            finally:
                await reader.close()

        first, second = asyncio.run(scenario())
    assert first != second


def test_an_unreachable_database_is_unavailable_not_a_crash(quick_timeout: None) -> None:
    nowhere = make_url(POSTGRES_URL).set(host="127.0.0.1", port=free_port())

    async def scenario() -> None:
        reader = _reader(nowhere.render_as_string(hide_password=False))
        await reader.open()
        try:
            await reader.one_or_none(_PID, {})
        finally:
            await reader.close()

    with pytest.raises(StoreUnavailableError, match="is unavailable right now") as caught:
        asyncio.run(scenario())
    assert caught.value.retry_after_seconds >= 1


def test_a_value_postgresql_refuses_is_invalid_input() -> None:
    _require_postgres()
    echo = select(literal("x").label("x")).where(bindparam("value") == "y")

    async def scenario() -> None:
        reader = _reader(POSTGRES_URL)
        await reader.open()
        try:
            await reader.one_or_none(echo, {"value": "nul\x00inside"})
        finally:
            await reader.close()

    with pytest.raises(InvalidInputError, match="cannot be stored"):
        asyncio.run(scenario())


def test_sqlite_has_no_event_loop_reader(tmp_path: Path) -> None:
    assert make_async_reader(f"sqlite:///{tmp_path / 'store.db'}") is None
