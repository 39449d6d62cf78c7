"""Creating keys: what a key may touch is what it was created for, never silently more."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.errors import InvalidInputError
from optimizer.usecases.accounts import create_account
from optimizer.usecases.keys import create_key, list_keys

ADMIN = system_principal("cli:test")


def test_an_admin_key_for_some_accounts_is_refused_not_widened(engine: Engine) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    with pytest.raises(InvalidInputError, match="admin key covers every account"):
        create_key(engine, ADMIN, role=Role.ADMIN, label="scoped admin", account_names=["shop"])
    assert list_keys(engine, ADMIN) == []
