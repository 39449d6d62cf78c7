"""Engines, migrations and the outage boundary, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from optimizer.errors import InvalidInputError, StoreUnavailableError
from optimizer.store.engine import is_current, make_engine, transaction, upgrade
from optimizer.store.tables import metadata

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_upgrade_creates_the_tables_and_reaches_head(blank_engine: Engine) -> None:
    assert not is_current(blank_engine)
    upgrade(blank_engine)
    assert is_current(blank_engine)
    tables = set(inspect(blank_engine).get_table_names())
    assert {"accounts", "entities", "performance", "ingests"} <= tables


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    assert is_current(engine)


def test_migrations_match_the_table_definitions(engine: Engine) -> None:
    with transaction(engine) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_composite_key_stops_rows_pointing_at_another_accounts_entity(engine: Engine) -> None:
    with transaction(engine) as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (id, name, currency, timezone) "
                "VALUES (1, 'a', 'EUR', 'UTC'), (2, 'b', 'EUR', 'UTC')"
            )
        )
        connection.execute(
            text("INSERT INTO entities (id, account_id, campaign) VALUES (10, 1, 'Brand')")
        )
    insert_row = text(
        "INSERT INTO performance (entity_id, date, account_id, spend_micros, clicks, impressions,"
        " conversions_micros, value_micros, updated_at)"
        " VALUES (10, '2026-01-01', :account, 0, 0, 0, 0, 0, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError), transaction(engine) as connection:
        connection.execute(insert_row, {"account": 2})
    with transaction(engine) as connection:
        connection.execute(insert_row, {"account": 1})
        assert connection.execute(text("SELECT count(*) FROM performance")).scalar_one() == 1


def test_transaction_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as connection:
        connection.execute(
            text("INSERT INTO accounts (name, currency, timezone) VALUES ('x', 'EUR', 'UTC')")
        )
        raise RuntimeError("boom")
    with transaction(engine) as connection:
        assert connection.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 0


def test_sqlite_engine_creates_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'store.db'}")
    try:
        with transaction(engine) as connection:
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
            journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    finally:
        engine.dispose()
    assert (tmp_path / "deep" / "er" / "store.db").exists()
    assert (foreign_keys, journal_mode) == (1, "wal")
    assert busy_timeout > 0


def test_locked_sqlite_file_is_store_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    with transaction(engine) as connection:
        connection.exec_driver_sql("PRAGMA busy_timeout=1")  # stays on the pooled connection
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError), transaction(engine) as connection:
            connection.execute(
                text("INSERT INTO accounts (name, currency, timezone) VALUES ('x', 'EUR', 'UTC')")
            )
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer.settings import get_settings

    monkeypatch.setenv("PPCOPT_DATABASE_URL", f"sqlite:///{tmp_path / 'configured.db'}")
    get_settings.cache_clear()
    try:
        engine = make_engine()
    finally:
        get_settings.cache_clear()
    assert engine.url.database == str(tmp_path / "configured.db")
    engine.dispose()


def test_plain_postgresql_urls_use_psycopg() -> None:
    engine = make_engine("postgresql://user@db.example:5432/ppc")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "schema"),
    [("not a url", None), ("nosuchdb://x/y", None), ("sqlite:///x.db", "other")],
    ids=["garbage", "unknown-dialect", "schema-on-sqlite"],
)
def test_bad_engine_requests_are_invalid_input(url: str, schema: str | None) -> None:
    with pytest.raises(InvalidInputError):
        make_engine(url, schema=schema)


def test_unreachable_postgres_is_store_unavailable() -> None:
    engine = make_engine(UNREACHABLE_POSTGRES)
    with pytest.raises(StoreUnavailableError) as raised, transaction(engine):
        pass
    assert "127.0.0.1:1" in raised.value.message
    assert raised.value.retry_after_seconds > 0


def test_upgrade_on_unreachable_postgres_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError):
        upgrade(make_engine(UNREACHABLE_POSTGRES))


def test_password_is_not_shown_when_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test")
    with pytest.raises(StoreUnavailableError) as raised, transaction(engine):
        pass
    assert "hunter2" not in raised.value.message


@pytest.mark.postgres
def test_an_exhausted_connection_pool_is_unavailable_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst that outlasts the configured pool's wait is a retryable 503 for the API, never a
    500, and the message says how long it waited."""
    from optimizer.settings import get_settings
    from tests.conftest import POSTGRES_URL, _require_postgres

    _require_postgres()
    monkeypatch.setenv("PPCOPT_DATABASE_POOL_SIZE", "1")
    monkeypatch.setenv("PPCOPT_DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("PPCOPT_DATABASE_POOL_TIMEOUT_SECONDS", "0.2")
    get_settings.cache_clear()
    engine = make_engine(POSTGRES_URL)
    try:
        held = engine.connect()
        busy = pytest.raises(StoreUnavailableError, match=r"busy for 0.2 s")
        with busy as caught, transaction(engine):
            pass
        held.close()
        assert caught.value.retry_after_seconds > 0
    finally:
        engine.dispose()
        get_settings.cache_clear()
