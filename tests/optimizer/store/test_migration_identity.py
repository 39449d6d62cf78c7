"""Migration 0011 upgrades a store written by the previous release without losing a row: names
stay, every entity gets platform 'other', and a campaign's row beside its keywords becomes its
total, with only the real remainder left as the campaign's own row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, text

from optimizer.store.engine import transaction, upgrade
from optimizer.store.tables import level_totals, performance
from optimizer.usecases.ingest import load_history

_NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _entity(connection, account_id: int, campaign: str, keyword: str) -> int:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO entities (account_id, campaign, ad_group, keyword, match_type) "
            "VALUES (:a, :c, :g, :k, :m)"
        ),
        {"a": account_id, "c": campaign, "g": "AG" if keyword else "", "k": keyword,
         "m": "exact" if keyword else ""},
    )  # fmt: skip
    return int(
        connection.execute(
            text("SELECT id FROM entities WHERE campaign = :c AND keyword = :k"),
            {"c": campaign, "k": keyword},
        ).scalar_one()
    )


def _row(connection, entity_id: int, account_id: int, day: int, spend: int) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO performance (entity_id, date, account_id, spend_micros, clicks, "
            "impressions, conversions_micros, value_micros, updated_at) "
            "VALUES (:e, :d, :a, :s, 1, 10, 0, 0, :t)"
        ),
        {"e": entity_id, "d": dt.date(2026, 10, day), "a": account_id, "s": spend, "t": _NOW},
    )


def test_a_store_of_the_previous_release_is_upgraded_without_losing_rows(
    blank_engine: Engine,
) -> None:
    upgrade(blank_engine, "0007")
    account = create_account_0007(blank_engine)
    with transaction(blank_engine) as connection:
        kw = _entity(connection, account, "Search", "red shoes")
        search = _entity(connection, account, "Search", "")
        pmax = _entity(connection, account, "PMax", "")
        for day in (1, 2, 3):
            _row(connection, kw, account, day, 10_000_000)
            _row(connection, pmax, account, day, 7_000_000)
        _row(connection, search, account, 1, 10_000_000)
        _row(connection, search, account, 2, 14_000_000)
        _row(connection, search, account, 4, 5_000_000)
    upgrade(blank_engine)
    with transaction(blank_engine) as connection:
        totals = connection.execute(
            select(level_totals.c.entity_id, level_totals.c.date, level_totals.c.spend_micros)
        ).all()
        kept = connection.execute(
            select(performance.c.entity_id, performance.c.date, performance.c.spend_micros)
        ).all()
    assert sorted((e, str(d), s) for e, d, s in totals) == [
        (search, "2026-10-01", 10_000_000),
        (search, "2026-10-02", 14_000_000),
    ]
    kept_rows = {(e, str(d)): s for e, d, s in kept}
    assert len(kept_rows) == 3 + 3 + 2
    assert (search, "2026-10-01") not in kept_rows
    assert kept_rows[(search, "2026-10-02")] == 4_000_000
    assert kept_rows[(search, "2026-10-04")] == 5_000_000
    history = load_history(blank_engine, "legacy")
    assert history["spend"].sum() == 30.0 + 21.0 + 4.0 + 5.0
    with transaction(blank_engine) as connection:
        platforms = connection.execute(text("SELECT DISTINCT platform FROM entities")).all()
    assert platforms == [("other",)]


def create_account_0007(engine: Engine) -> int:
    """An account as the previous release stored it (before this migration's columns)."""
    with transaction(engine) as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (name, currency, timezone, created_at) "
                "VALUES ('legacy', 'EUR', 'UTC', :t)"
            ),
            {"t": _NOW},
        )
        return int(connection.execute(text("SELECT id FROM accounts")).scalar_one())
