"""Migration 0017 turns each existing key label into a user (folded: `Maria` and `maria ` are one
person), keeps a person to one role, and gives caps proposed before the upgrade their proposer's
user, so four eyes over them compares people too."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, text

from optimizer.access import Principal, Role
from optimizer.errors import PermissionDeniedError
from optimizer.store.engine import transaction, upgrade
from optimizer.store.tables import api_keys, users
from optimizer.usecases.caps import decide_cap

_NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
_LABELS = [
    ("Maria", "finance"),
    ("maria ", "finance"),
    ("maria", "manager"),
    ("\u200b", "script"),
    ("Tom", "finance"),
]


def test_each_key_label_becomes_or_joins_a_user(blank_engine: Engine) -> None:
    upgrade(blank_engine, "0014")
    with transaction(blank_engine) as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (name, currency, timezone, created_at) "
                "VALUES ('shop', 'EUR', 'UTC', :t)"
            ),
            {"t": _NOW},
        )
        for n, (label, role) in enumerate(_LABELS, start=1):
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, prefix, secret_sha256, role, label, all_accounts, "
                    "created_at) VALUES (:i, :p, :s, :r, :l, true, :t)"
                ),
                {"i": n, "p": f"{n:08x}", "s": "0" * 64, "r": role, "l": label, "t": _NOW},
            )
        connection.execute(
            text(
                "INSERT INTO caps (account_id, period_start, period_end, amount_micros, currency, "
                "note, status, proposed_by, proposed_key_id, proposed_at) VALUES "
                "(1, '2026-12-01', '2026-12-31', 1000000000, 'EUR', '', 'proposed', "
                "'key 1 (Maria)', 1, :t)"
            ),
            {"t": _NOW},
        )
    upgrade(blank_engine)
    with transaction(blank_engine) as connection:
        people = {r.id: (r.name, r.role) for r in connection.execute(select(users)).all()}
        owners = dict(connection.execute(select(api_keys.c.id, api_keys.c.user_id)).all())
    named = {key: people[owners[key]] for key in owners}
    assert named == {
        1: ("maria", "finance"),
        2: ("maria", "finance"),
        3: ("maria (manager)", "manager"),
        4: ("key 4", "script"),
        5: ("tom", "finance"),
    }
    second_key = Principal(
        role=Role.FINANCE, label="maria ", key_id=2, user_id=owners[2], user="maria"
    )
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        decide_cap(blank_engine, second_key, 1, approve=True)
    tom = Principal(role=Role.FINANCE, label="Tom", key_id=5, user_id=owners[5], user="tom")
    assert decide_cap(blank_engine, tom, 1, approve=True).status == "approved"
