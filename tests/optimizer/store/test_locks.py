"""The per-account run lock: exclusive within one store, independent across stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from optimizer.store.engine import upgrade
from optimizer.store.locks import account_lock
from optimizer.usecases.accounts import create_account
from tests.conftest import POSTGRES_URL, _require_postgres
from tests.stores import postgres_schema


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
    with postgres_schema(POSTGRES_URL) as (engine, _):
        upgrade(engine)
        yield engine


@pytest.mark.postgres
def test_stores_in_two_schemas_of_one_database_lock_independently(other_schema: Engine) -> None:
    """Advisory locks are database-wide and account ids repeat across schemas."""
    with postgres_schema(POSTGRES_URL) as (first, _):
        upgrade(first)
        ids = [
            create_account(store, "shop", currency="EUR", timezone="UTC").id
            for store in (first, other_schema)
        ]
        assert ids[0] == ids[1]
        with account_lock(first, ids[0]) as held, account_lock(other_schema, ids[1]) as elsewhere:
            assert held and elsewhere
