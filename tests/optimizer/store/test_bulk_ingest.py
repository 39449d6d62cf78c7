"""Bulk upsert on both backends: chunked COPY / executemany, exact counts, awkward names, pool."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.pool import NullPool

import optimizer.store.staging
from optimizer.schema import NAME_COLUMNS
from optimizer.store.engine import transaction
from optimizer.store.performance import (
    VALUE_COLUMNS,
    UpsertCounts,
    select_stored,
    upsert_performance,
)
from optimizer.store.tables import performance
from optimizer.usecases.accounts import create_account

_FIRST = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
_LATER = dt.datetime(2026, 1, 11, tzinfo=dt.UTC)

_AWKWARD = [
    "comma, inside",
    'double "quoted"',
    "line\nbreak",
    "carriage\r\nreturn",
    "tab\there",
    "back\\slash \\N",
    "  padded  ",
    "Ümlaut ß 日本語 کلمه",
    "",
]


def _frame(seed: int, entities: int, days: int, names: list[str] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keyword = names if names is not None else [f"kw {i}" for i in range(entities)]
    rows = entities * days
    frame = pd.DataFrame(
        {
            "date": np.tile(pd.date_range("2026-01-01", periods=days).to_numpy(), entities),
            # A keyword-less row is its campaign's total (store.levels): give it its own campaign.
            "campaign": np.repeat(
                [("pmax" if k == "" else f"c{i % 3}") for i, k in enumerate(keyword)], days
            ),
            "ad_group": np.repeat([("" if k == "" else "ag") for k in keyword], days),
            "keyword": np.repeat(keyword, days),
            "match_type": np.repeat([("" if k == "" else "exact") for k in keyword], days),
            **{c: rng.integers(0, 10**9, rows, dtype=np.int64) for c in VALUE_COLUMNS},
        }
    )
    return frame


def _upsert(engine: Engine, account_id: int, frame: pd.DataFrame, now: dt.datetime) -> UpsertCounts:
    with transaction(engine) as connection:
        return upsert_performance(connection, account_id, frame, now=now)


def _stored(engine: Engine, account_id: int) -> pd.DataFrame:
    with transaction(engine) as connection:
        return select_stored(connection, account_id, None, None)


def _same_rows(stored: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = ["date", *NAME_COLUMNS, *VALUE_COLUMNS]
    order = ["date", *NAME_COLUMNS]
    left = stored[columns].sort_values(order, ignore_index=True)
    right = expected[columns].sort_values(order, ignore_index=True)
    right["date"] = right["date"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


@pytest.fixture
def account_id(engine: Engine) -> int:
    return create_account(engine, "bulk", currency="EUR", timezone="Europe/Berlin").id


@pytest.mark.parametrize(
    "chunk_rows",
    [pytest.param(7, id="many-chunks"), pytest.param(100_000, id="one-chunk")],
)
def test_counts_and_values_across_chunks(
    engine: Engine, account_id: int, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    monkeypatch.setattr(optimizer.store.staging, "_CHUNK_ROWS", chunk_rows)
    first = _frame(seed=1, entities=6, days=20)
    assert _upsert(engine, account_id, first, _FIRST) == UpsertCounts(120, 0, 0)
    assert _upsert(engine, account_id, first, _LATER) == UpsertCounts(0, 0, 120)

    rng = np.random.default_rng(2)
    changed = rng.choice(len(first), size=17, replace=False)
    second = first.copy()
    second.loc[changed, "clicks"] += 1
    extra = _frame(seed=3, entities=2, days=5, names=["new a", "new b"])
    second = pd.concat([second, extra], ignore_index=True)
    assert _upsert(engine, account_id, second, _LATER) == UpsertCounts(10, 17, 120 - 17)
    _same_rows(_stored(engine, account_id), second)


def test_unchanged_rows_are_not_rewritten(engine: Engine, account_id: int) -> None:
    first = _frame(seed=4, entities=3, days=10)
    _upsert(engine, account_id, first, _FIRST)
    second = first.copy()
    second.loc[:4, "spend_micros"] += 1
    _upsert(engine, account_id, second, _LATER)
    with transaction(engine) as connection:
        stamps = connection.execute(select(performance.c.updated_at)).scalars().all()
    later = sum(1 for s in stamps if s.replace(tzinfo=dt.UTC) == _LATER)
    assert later == 5
    assert len(stamps) - later == len(first) - 5


def test_awkward_names_round_trip_exactly(engine: Engine, account_id: int) -> None:
    frame = _frame(seed=5, entities=len(_AWKWARD), days=3, names=_AWKWARD)
    assert _upsert(engine, account_id, frame, _FIRST).inserted == len(frame)
    stored = _stored(engine, account_id)
    assert set(stored["keyword"]) == set(_AWKWARD)
    _same_rows(stored, frame)
    assert _upsert(engine, account_id, frame, _LATER).unchanged == len(frame)


def test_accounts_do_not_see_each_others_rows(engine: Engine, account_id: int) -> None:
    other = create_account(engine, "other", currency="EUR", timezone="Europe/Berlin").id
    mine = _frame(seed=6, entities=4, days=6)
    theirs = mine.copy()
    theirs["clicks"] += 3
    _upsert(engine, account_id, mine, _FIRST)
    assert _upsert(engine, other, theirs, _FIRST) == UpsertCounts(len(theirs), 0, 0)
    _same_rows(_stored(engine, account_id), mine)
    _same_rows(_stored(engine, other), theirs)


@pytest.mark.postgres
def test_postgres_pool_replaces_connections_the_server_closed(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("pooling is configured for PostgreSQL only")
    with transaction(engine) as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(engine.url, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    with transaction(engine) as connection:
        fresh = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert fresh != pid
