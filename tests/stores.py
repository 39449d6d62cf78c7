"""Store helpers shared by the test packages: a scratch PostgreSQL schema, and a full dump."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, MetaData, select, text

from optimizer.store.engine import make_engine, transaction

__all__ = ["BACKENDS", "dump", "postgres_schema"]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]
"""Fixture params for a store on every backend (PostgreSQL tests carry the `postgres` mark)."""


@contextmanager
def postgres_schema(url: str, prefix: str = "test") -> Iterator[tuple[Engine, str]]:
    """An engine on a new empty schema (tests run in parallel, one schema each), dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex}"
    admin = make_engine(url)
    with transaction(admin) as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema)
    try:
        yield engine, schema
    finally:
        engine.dispose()
        with transaction(admin) as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, in a stable order."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted((tuple(r) for r in connection.execute(select(table))), key=repr)
            for name, table in sorted(metadata.tables.items())
        }
