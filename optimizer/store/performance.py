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
    Float,
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

from optimizer.schema import IDENTITY_COLUMNS, NAME_COLUMNS
from optimizer.store.identity import Rename, resolve_entities
from optimizer.store.levels import reconcile
from optimizer.store.staging import analyze, bulk_load, temporary_table
from optimizer.store.tables import entities, level_totals, performance

__all__ = [
    "VALUE_COLUMNS",
    "HistoryLayout",
    "UpsertCounts",
    "history_layout",
    "select_stored",
    "spend_between",
    "upsert_performance",
    "upsert_rows",
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
    """How the staged rows compared with what was stored before (and what else the upload did:
    entities renamed, campaign totals that do not reconcile with their keywords)."""

    inserted: int
    updated: int
    unchanged: int
    renames: tuple[Rename, ...] = ()
    notes: tuple[str, ...] = ()

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.renames + other.renames,
            self.notes + other.notes,
        )


def upsert_performance(
    connection: Connection, account_id: int, frame: pd.DataFrame, *, now: dt.datetime
) -> UpsertCounts:
    """Store `frame` (stored shape, at most one row per entity and date) for the account.

    Entities are resolved by platform IDs, then names (`store.identity`); keyword rows go to
    `performance`, campaign and ad group rows to `level_totals`, and the campaigns' days are then
    reconciled (`store.levels`). `now` stamps every inserted or updated row.
    """
    if frame.empty:
        return UpsertCounts(inserted=0, updated=0, unchanged=0)
    codes, first_rows = _factorize_entities(frame)
    resolved = resolve_entities(connection, account_id, frame.iloc[first_rows])
    entity_ids = resolved.ids[codes]
    leaf = frame["keyword"].astype(str).to_numpy() != ""
    counts = UpsertCounts(0, 0, 0, renames=resolved.renames)
    if leaf.any():
        counts += upsert_rows(
            connection, performance, account_id, frame.loc[leaf], entity_ids[leaf], now=now
        )
    if (~leaf).any():
        counts += upsert_rows(
            connection, level_totals, account_id, frame.loc[~leaf], entity_ids[~leaf], now=now
        )
    notes = reconcile(
        connection,
        account_id,
        campaigns=sorted(set(frame["campaign"].astype(str))),
        start=pd.Timestamp(frame["date"].min()).date(),
        end=pd.Timestamp(frame["date"].max()).date(),
        now=now,
    )
    return counts + UpsertCounts(0, 0, 0, notes=notes)


def upsert_rows(
    connection: Connection,
    table: Table,
    account_id: int,
    frame: pd.DataFrame,
    entity_ids: npt.NDArray[np.int64],
    *,
    now: dt.datetime,
) -> UpsertCounts:
    """Upsert one row per (entity id, date) of `frame` into `performance` or `level_totals`."""
    columns = _stored_columns(table)
    staged = pd.DataFrame(
        {
            "entity_id": entity_ids,
            "date": _iso_dates(frame["date"]),
            **{column: frame[column].to_numpy(dtype=np.int64) for column in VALUE_COLUMNS},
        }
    )
    if "lost_is_budget" in columns:
        staged["lost_is_budget"] = (
            frame["lost_is_budget"].to_numpy(dtype=np.float64)
            if "lost_is_budget" in frame.columns
            else np.nan
        )
    # In primary-key order, the upsert walks the index sequentially instead of jumping around.
    staged = staged.sort_values(["entity_id", "date"], kind="stable", ignore_index=True)
    types: dict[str, TypeEngine[Any]] = {
        "entity_id": BigInteger(),
        "date": Date(),
        **dict.fromkeys(VALUE_COLUMNS, BigInteger()),
    }
    if "lost_is_budget" in columns:
        types["lost_is_budget"] = Float()
    stage = temporary_table(connection, f"_stage_{table.name}", types)
    bulk_load(connection, stage, staged)
    analyze(connection, stage)
    matched, unchanged = _count_matches(connection, table, stage, columns)
    connection.execute(_upsert_statement(connection, table, stage, account_id, now, columns))
    stage.drop(connection)
    return UpsertCounts(
        inserted=len(staged) - matched, updated=matched - unchanged, unchanged=unchanged
    )


def _stored_columns(table: Table) -> tuple[str, ...]:
    """The value columns of `table` an upsert writes and compares."""
    extra = ("lost_is_budget",) if "lost_is_budget" in table.c else ()
    return (*VALUE_COLUMNS, *extra)


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


def spend_between(connection: Connection, account_id: int, start: dt.date, end: dt.date) -> int:
    """Spend booked from `start` up to, not including, `end`, in micros."""
    total = connection.execute(
        select(func.coalesce(func.sum(performance.c.spend_micros), 0)).where(
            performance.c.account_id == account_id,
            performance.c.date >= start,
            performance.c.date < end,
        )
    ).scalar_one()
    return int(total)


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
    """Entity number of every row (by names and platform identity), and each one's first row."""
    keys = [name for name in (*NAME_COLUMNS, *IDENTITY_COLUMNS) if name in frame.columns]
    groups = frame.groupby(keys, sort=False, observed=True, dropna=False)
    codes = np.asarray(groups.ngroup(), dtype=np.int64)
    _, first_rows = np.unique(codes, return_index=True)
    return codes, np.asarray(first_rows, dtype=np.int64)


def _same(table: Table, stage: Table, column: str) -> ColumnElement[bool]:
    return table.c[column].is_not_distinct_from(stage.c[column])


def _identical(table: Table, stage: Table, columns: Sequence[str]) -> ColumnElement[bool]:
    """The stored row with the staged row's key and every value equal to it."""
    return and_(
        table.c.entity_id == stage.c.entity_id,
        table.c.date == stage.c.date,
        *(_same(table, stage, column) for column in columns),
    )


def _count_matches(
    connection: Connection, table: Table, stage: Table, columns: Sequence[str]
) -> tuple[int, int]:
    """(staged rows already stored, of which identical in every value)."""
    identical = and_(*(_same(table, stage, column) for column in columns))
    row = connection.execute(
        select(func.count(), func.coalesce(func.sum(case((identical, 1), else_=0)), 0))
        .select_from(stage)
        .join(
            table,
            and_(table.c.entity_id == stage.c.entity_id, table.c.date == stage.c.date),
        )
    ).one()
    return int(row[0]), int(row[1])


def _upsert_statement(
    connection: Connection,
    table: Table,
    stage: Table,
    account_id: int,
    now: dt.datetime,
    columns: Sequence[str],
) -> Insert:
    rows = select(
        stage.c.entity_id,
        stage.c.date,
        literal(account_id, BigInteger()),
        *(stage.c[column] for column in columns),
        literal(now, DateTime(timezone=True)),
    ).where(true())
    if connection.dialect.name == "postgresql":
        # A conflict that ends up not updating still locks its row: leave identical rows out.
        rows = rows.where(~exists().where(_identical(table, stage, columns)))
    statement = _insert_for(connection, table).from_select(
        ["entity_id", "date", "account_id", *columns, "updated_at"], rows
    )
    changed = or_(
        *(table.c[column].is_distinct_from(statement.excluded[column]) for column in columns)
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.entity_id, table.c.date],
        set_={column: statement.excluded[column] for column in (*columns, "updated_at")},
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
