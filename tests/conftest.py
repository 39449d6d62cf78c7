"""Shared fixtures: a fresh store per test on every backend (a SQLite file; a PostgreSQL schema).

PostgreSQL comes from PPCOPT_TEST_POSTGRES_URL. Each test gets its own schema, so tests can run in
parallel (pytest-xdist). An unreachable server skips those tests, unless PPCOPT_REQUIRE_POSTGRES=1
(as in CI), where it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import make_engine, transaction, upgrade
from tests.stores import BACKENDS, postgres_schema

POSTGRES_URL = os.environ.get(
    "PPCOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once per process)."""
    engine = make_engine(POSTGRES_URL)
    try:
        with transaction(engine) as connection:
            connection.execute(text("SELECT 1"))
    except StoreUnavailableError as exc:
        return exc.message
    finally:
        engine.dispose()
    return None


def _require_postgres() -> None:
    problem = _postgres_unreachable()
    if problem is None:
        return
    if os.environ.get("PPCOPT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PPCOPT_REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {problem}")
    pytest.skip(f"PostgreSQL is unreachable: {problem}")


@pytest.fixture(
    params=BACKENDS,
)
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (no migrations run yet)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        yield engine
        engine.dispose()
        return
    _require_postgres()
    with postgres_schema(POSTGRES_URL) as (engine, _):
        yield engine


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    """An engine on a fresh database with every migration applied."""
    upgrade(blank_engine)
    return blank_engine
