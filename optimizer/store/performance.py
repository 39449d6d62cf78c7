"""Daily performance of one account: a set-based upsert from a stored-shape frame, and reading back.

The upsert stages the rows in a temporary table (COPY on PostgreSQL), counts how many match stored
rows (and how many of those are identical), then runs one `INSERT ... ON CONFLICT (entity_id,
date) DO UPDATE ... WHERE values differ`, so identical rows are not even rewritten. On PostgreSQL
the staged rows are analysed first (temporary tables never are automatically, and the joins need
row counts to choose between index probes and a scan of a large table) and identical rows are
left out of the merge by an anti-join. Callers run it inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Insert,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

from optimizer.schema import NAME_COLUMNS
from optimizer.store.staging import analyze, bulk_load, temporary_table
from optimizer.store.tables import entities, performance

__all__ = [
    "VALUE_COLUMNS",
    "HistoryLayout",
    "UpsertCounts",
    "history_layout",
    "select_stored",
    "upsert_performance",
]

_FETCH_ROWS = 100_000
_SLICE_CAMPAIGNS = 5_000

VALUE_COLUMNS: tuple[str, ...] = (
    "spend_micros",
    "clicks",
    "impressions",
    "conversions_micros",
    "value_micros",
)


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """How the staged rows compared with what was stored before."""

    inserted: int
    updated: int
    unchanged: int


def upsert_performance(
    connection: Connection, account_id: int, frame: pd.DataFrame, *, now: dt.datetime
) -> UpsertCounts:
    """Store `frame` (stored shape, at most one row per entity and date) for the account.

    Entities seen for the first time are created; `now` stamps every inserted or updated row.
    """
    if frame.empty:
        return UpsertCounts(inserted=0, updated=0, unchanged=0)
    codes, first_rows = _factorize_entities(frame)
    entity_ids = _resolve_entities(connection, account_id, frame.iloc[first_rows])
    staged = pd.DataFrame(
        {
            "entity_id": entity_ids[codes],
            "date": _iso_dates(frame["date"]),
            **{column: frame[column].to_numpy(dtype=np.int64) for column in VALUE_COLUMNS},
        }
    )
    # In primary-key order, the upsert walks the index sequentially instead of jumping around.
    staged = staged.sort_values(["entity_id", "date"], kind="stable", ignore_index=True)
    stage = temporary_table(
        connection,
        "_stage_performance",
        {"entity_id": BigInteger(), "date": Date(), **dict.fromkeys(VALUE_COLUMNS, BigInteger())},
    )
    bulk_load(connection, stage, staged)
    analyze(connection, stage)
    matched, unchanged = _count_matches(connection, stage)
    connection.execute(_upsert_statement(connection, stage, account_id, now))
    stage.drop(connection)
    return UpsertCounts(
        inserted=len(staged) - matched, updated=matched - unchanged, unchanged=unchanged
    )


@dataclass(frozen=True, slots=True)
class HistoryLayout:
    """What a fit needs to know of an account's history before reading a row of it: its window,
    its totals, how many entities spent, and its campaigns cut into slices."""

    first: dt.date
    last: dt.date
    value_micros: int
    conversions_micros: int
    spending_entities: int
    slices: tuple[tuple[str, ...], ...]


def history_layout(connection: Connection, account_id: int, max_rows: int) -> HistoryLayout | None:
    """The account's layout from one pass over its rows, aggregated per entity (None: no rows).

    Slices are consecutive campaigns in name order of at most `max_rows` stored rows (a campaign
    larger than that is a slice of its own) and at most 5,000 campaigns (each is a bound
    parameter when the slice is read).
    """
    day = type_coerce(performance.c.date, Text())
    rows = connection.execute(
        select(
            entities.c.campaign,
            func.count(),
            func.sum(performance.c.spend_micros),
            func.sum(performance.c.value_micros),
            func.sum(performance.c.conversions_micros),
            func.min(day),
            func.max(day),
        )
        .select_from(performance.join(entities, entities.c.id == performance.c.entity_id))
        .where(performance.c.account_id == account_id)
        .group_by(performance.c.entity_id, entities.c.campaign)
    ).all()
    if not rows:
        return None
    campaigns, counts, spends, values, conversions, firsts, lasts = zip(*rows, strict=True)
    per_campaign = pd.Series([int(n) for n in counts], index=list(campaigns)).groupby(level=0).sum()
    # Sorted here, not in SQL: PostgreSQL collations would order names differently from SQLite.
    per_campaign = per_campaign.sort_index(kind="stable")
    return HistoryLayout(
        first=min(pd.Timestamp(str(d)) for d in firsts).date(),
        last=max(pd.Timestamp(str(d)) for d in lasts).date(),
        value_micros=sum(int(v) for v in values),
        conversions_micros=sum(int(c) for c in conversions),
        spending_entities=sum(int(v) > 0 for v in spends),
        slices=_cut(per_campaign, max_rows),
    )


def _cut(rows_per_campaign: pd.Series, max_rows: int) -> tuple[tuple[str, ...], ...]:
    slices: list[tuple[str, ...]] = []
    current: list[str] = []
    rows = 0
    for campaign, size in rows_per_campaign.items():
        if current and (rows + int(size) > max_rows or len(current) >= _SLICE_CAMPAIGNS):
            slices.append(tuple(current))
            current, rows = [], 0
        current.append(str(campaign))
        rows += int(size)
    if current:
        slices.append(tuple(current))
    return tuple(slices)


def select_stored(
    connection: Connection,
    account_id: int,
    start: dt.date | None,
    end: dt.date | None,
    campaigns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The account's rows in stored shape (without `line`), sorted by entity names, then date;
    only those of `campaigns` when given."""
    which = select(entities.c.id, *(entities.c[name] for name in NAME_COLUMNS)).where(
        entities.c.account_id == account_id
    )
    if campaigns is not None:
        which = which.where(entities.c.campaign.in_(campaigns))
    named = pd.DataFrame(connection.execute(which).all(), columns=["id", *NAME_COLUMNS])
    # Sorted here, not in SQL: PostgreSQL collations would order names differently from SQLite.
    named = named.sort_values(list(NAME_COLUMNS), kind="stable", ignore_index=True)
    # Raw driver values: ISO strings on SQLite, date objects on PostgreSQL; pandas parses either.
    day = type_coerce(performance.c.date, Text())
    statement = select(
        performance.c.entity_id, day, *(performance.c[column] for column in VALUE_COLUMNS)
    )
    if campaigns is None:
        statement = statement.where(performance.c.account_id == account_id)
    else:
        # By entity id alone, so the planner probes the (entity_id, date) key for the slice's
        # entities instead of scanning the whole account for each slice.
        statement = statement.where(
            performance.c.entity_id.in_(
                select(entities.c.id).where(
                    entities.c.account_id == account_id, entities.c.campaign.in_(campaigns)
                )
            )
        )
    if start is not None:
        statement = statement.where(performance.c.date >= start)
    if end is not None:
        statement = statement.where(performance.c.date <= end)
    chunks = [
        _columns(rows)
        for rows in connection.execute(
            statement.execution_options(yield_per=_FETCH_ROWS)
        ).partitions()
    ]
    entity_ids, dates, *values = (
        [np.concatenate(parts) for parts in zip(*chunks, strict=True)]
        if chunks
        else [np.empty(0, dtype=np.int64), np.empty(0, dtype="datetime64[ns]")]
        + [np.empty(0, dtype=np.int64) for _ in VALUE_COLUMNS]
    )
    entity_rank = pd.Index(named["id"]).get_indexer(entity_ids)
    order = np.lexsort((dates, entity_rank))
    return pd.DataFrame(
        {
            "date": dates[order],
            **{name: named[name].to_numpy()[entity_rank[order]] for name in NAME_COLUMNS},
            **{column: array[order] for column, array in zip(VALUE_COLUMNS, values, strict=True)},
        }
    )


def _columns(rows: Sequence[Sequence[Any]]) -> list[npt.NDArray[Any]]:
    """Column arrays (entity id, date as datetime64, values) for one batch of fetched rows."""
    entity_ids, days, *values = zip(*rows, strict=True)
    day_codes, distinct_days = pd.factorize(np.asarray(days, dtype=object))
    dates = pd.to_datetime(distinct_days).to_numpy(dtype="datetime64[ns]")[day_codes]
    return [
        np.asarray(entity_ids, dtype=np.int64),
        dates,
        *(np.asarray(column, dtype=np.int64) for column in values),
    ]


def _factorize_entities(
    frame: pd.DataFrame,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Entity number of every row, and the position of each entity's first row."""
    groups = frame.groupby(list(NAME_COLUMNS), sort=False, observed=True, dropna=False)
    codes = np.asarray(groups.ngroup(), dtype=np.int64)
    _, first_rows = np.unique(codes, return_index=True)
    return codes, np.asarray(first_rows, dtype=np.int64)


def _resolve_entities(
    connection: Connection, account_id: int, names: pd.DataFrame
) -> npt.NDArray[np.int64]:
    """Database ids for the given distinct entity names (in order), creating the missing ones."""
    staged = pd.DataFrame(
        {
            "position": np.arange(len(names), dtype=np.int64),
            **{name: names[name].astype(object).fillna("").astype(str) for name in NAME_COLUMNS},
        }
    )
    text_columns: dict[str, TypeEngine[Any]] = dict.fromkeys(NAME_COLUMNS, Text())
    stage = temporary_table(
        connection, "_stage_entities", {"position": BigInteger(), **text_columns}
    )
    bulk_load(connection, stage, staged)
    new_entities = _insert_for(connection, entities).from_select(
        ["account_id", *NAME_COLUMNS],
        select(literal(account_id, BigInteger()), *(stage.c[name] for name in NAME_COLUMNS)).where(
            true()
        ),
    )
    connection.execute(
        new_entities.on_conflict_do_nothing(
            index_elements=[entities.c.account_id, *(entities.c[n] for n in NAME_COLUMNS)]
        )
    )
    found = connection.execute(
        select(stage.c.position, entities.c.id).join_from(
            stage,
            entities,
            and_(
                entities.c.account_id == account_id,
                *(entities.c[name] == stage.c[name] for name in NAME_COLUMNS),
            ),
        )
    ).all()
    stage.drop(connection)
    ids = np.full(len(names), -1, dtype=np.int64)
    for position, entity_id in found:
        ids[position] = entity_id
    if (ids < 0).any():
        raise RuntimeError("some entities were neither found nor created")
    return ids


def _identical(stage: Table) -> ColumnElement[bool]:
    """The stored row with the staged row's key and every value equal to it."""
    return and_(
        performance.c.entity_id == stage.c.entity_id,
        performance.c.date == stage.c.date,
        *(performance.c[column] == stage.c[column] for column in VALUE_COLUMNS),
    )


def _count_matches(connection: Connection, stage: Table) -> tuple[int, int]:
    """(staged rows already stored, of which identical in every value)."""
    identical = and_(*(performance.c[column] == stage.c[column] for column in VALUE_COLUMNS))
    row = connection.execute(
        select(func.count(), func.coalesce(func.sum(case((identical, 1), else_=0)), 0))
        .select_from(stage)
        .join(
            performance,
            and_(
                performance.c.entity_id == stage.c.entity_id,
                performance.c.date == stage.c.date,
            ),
        )
    ).one()
    return int(row[0]), int(row[1])


def _upsert_statement(
    connection: Connection, stage: Table, account_id: int, now: dt.datetime
) -> Insert:
    rows = select(
        stage.c.entity_id,
        stage.c.date,
        literal(account_id, BigInteger()),
        *(stage.c[column] for column in VALUE_COLUMNS),
        literal(now, DateTime(timezone=True)),
    ).where(true())
    if connection.dialect.name == "postgresql":
        # A conflict that ends up not updating still locks its row: leave identical rows out.
        rows = rows.where(~exists().where(_identical(stage)))
    statement = _insert_for(connection, performance).from_select(
        ["entity_id", "date", "account_id", *VALUE_COLUMNS, "updated_at"], rows
    )
    changed = or_(
        *(performance.c[column] != statement.excluded[column] for column in VALUE_COLUMNS)
    )
    return statement.on_conflict_do_update(
        index_elements=[performance.c.entity_id, performance.c.date],
        set_={column: statement.excluded[column] for column in (*VALUE_COLUMNS, "updated_at")},
        where=changed,
    )


def _insert_for(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT with ON CONFLICT.

    The SELECTs fed to it carry `WHERE true`: SQLite's grammar needs that to tell ON CONFLICT apart.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _iso_dates(dates: pd.Series) -> npt.NDArray[np.object_]:
    """'YYYY-MM-DD' per row (how SQLAlchemy stores dates on SQLite), formatted once per day."""
    codes, days = pd.factorize(pd.to_datetime(dates))
    return np.asarray(pd.DatetimeIndex(days).strftime("%Y-%m-%d"), dtype=object)[codes]
