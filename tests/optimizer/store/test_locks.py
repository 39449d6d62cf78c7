"""The per-account run lock: exclusive within one store, independent across stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.locks import account_lock
from optimizer.usecases.accounts import create_account
from tests.conftest import POSTGRES_URL, _require_postgres


def test_a_held_account_lock_refuses_a_second_holder(engine: Engine) -> None:
    shop = create_account(engine, "shop", currency="EUR", timezone="UTC").id
    other = create_account(engine, "other", currency="EUR", timezone="UTC").id
    with account_lock(engine, shop) as first:
        assert first
        with account_lock(engine, shop) as second:
            assert not second
        with account_lock(engine, other) as other_account:
            assert other_account
    with account_lock(engine, shop) as again:
        assert again


@pytest.fixture
def other_schema() -> Iterator[Engine]:
    _require_postgres()
    schema = f"test_{uuid.uuid4().hex}"
    admin = make_engine(POSTGRES_URL)
    with transaction(admin) as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, schema=schema)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with transaction(admin) as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_stores_in_two_schemas_of_one_database_lock_independently(other_schema: Engine) -> None:
    """Advisory locks are database-wide and account ids repeat across schemas."""
    _require_postgres()
    schema = f"test_{uuid.uuid4().hex}"
    admin = make_engine(POSTGRES_URL)
    with transaction(admin) as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    first = make_engine(POSTGRES_URL, schema=schema)
    try:
        upgrade(first)
        ids = [
            create_account(store, "shop", currency="EUR", timezone="UTC").id
            for store in (first, other_schema)
        ]
        assert ids[0] == ids[1]
        with account_lock(first, ids[0]) as held, account_lock(other_schema, ids[1]) as elsewhere:
            assert held and elsewhere
    finally:
        first.dispose()
        with transaction(admin) as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
