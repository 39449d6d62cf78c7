"""Throwaway stores for benchmark cases: a SQLite file or a fresh PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

__all__ = ["POSTGRES_URL", "scratch_store"]

POSTGRES_URL = os.environ.get(
    "PPCOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def scratch_store(backend: str, workdir: str) -> Iterator[tuple[Engine, dict[str, str]]]:
    """A migrated empty store, and the environment that points a `ppcopt` process at it."""
    from optimizer.store.engine import make_engine, upgrade

    if backend == "sqlite":
        url = f"sqlite:///{Path(workdir) / f'bench-{uuid.uuid4().hex}.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine, {"PPCOPT_DATABASE_URL": url}
        finally:
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        upgrade(engine)
        yield engine, {"PPCOPT_DATABASE_URL": POSTGRES_URL, "PPCOPT_DATABASE_SCHEMA": schema}
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
