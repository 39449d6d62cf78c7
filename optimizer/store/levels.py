"""A campaign's reported total beside its keywords' rows, never added on top of them.

A Campaigns report and a Keywords report describe the same spend at two levels. The totals of
campaigns and ad groups (rows without a keyword) are kept in `level_totals`; what the models read
(`performance`) holds, for each campaign and ad group and day, only the part of its total that its
finer rows do not show:

    remainder = total - (its keyword rows, and for a campaign its ad groups' remainders too)

That part is real (Performance Max or Display spend inside the campaign, keywords not exported)
when it is at least `SHARE` of the total and at least `MIN_SPEND_MICROS`; then it is stored as the
campaign's (or ad group's) own row, otherwise nothing is. A campaign with no keyword rows that
day (Performance Max, a campaign-only upload) keeps its whole total. Whichever report arrives
first, the result is the same once both are in. A total that its keywords exceed by more than
`SHARE` reconciles badly, and the upload says so with the numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    delete,
    func,
    select,
    tuple_,
    type_coerce,
)

from optimizer.schema import MICROS
from optimizer.store.tables import entities, level_totals, performance

__all__ = ["MIN_SPEND_MICROS", "SHARE", "reconcile"]

SHARE = 0.01
MIN_SPEND_MICROS = 10_000
_VALUES = ("spend_micros", "clicks", "impressions", "conversions_micros", "value_micros")
_CAMPAIGNS_PER_QUERY = 1_000


def reconcile(
    connection: Connection,
    account_id: int,
    *,
    campaigns: Sequence[str],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
) -> tuple[str, ...]:
    """Bring the campaign- and ad-group-level rows of `performance` in line with `level_totals`
    for `campaigns` from `start` to `end`; returns a note per badly reconciling campaign."""
    notes: list[str] = []
    for first in range(0, len(campaigns), _CAMPAIGNS_PER_QUERY):
        batch = list(campaigns[first : first + _CAMPAIGNS_PER_QUERY])
        totals = _totals(connection, account_id, batch, start, end)
        if totals.empty:
            continue
        leaves = _leaf_sums(connection, account_id, batch, start, end)
        wanted, bad = _remainders(totals, leaves)
        _write(connection, account_id, totals, wanted, now)
        notes.extend(_describe(bad))
    return tuple(notes)


def _day(column: ColumnElement[dt.date]) -> ColumnElement[str]:
    """The raw driver value (ISO text on SQLite, a date on PostgreSQL); `_frame` parses either."""
    return type_coerce(column, Text())


def _frame(rows: Sequence[Sequence[object]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(row) for row in rows], columns=list(columns))
    if not frame.empty:
        frame["date"] = pd.to_datetime(frame["date"].astype(str)).dt.date
    return frame


def _totals(
    connection: Connection, account_id: int, campaigns: list[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    rows = connection.execute(
        select(
            level_totals.c.entity_id,
            entities.c.campaign,
            entities.c.ad_group,
            _day(level_totals.c.date),
            *(level_totals.c[name] for name in _VALUES),
        )
        .join_from(level_totals, entities, entities.c.id == level_totals.c.entity_id)
        .where(
            level_totals.c.account_id == account_id,
            entities.c.campaign.in_(campaigns),
            level_totals.c.date >= start,
            level_totals.c.date <= end,
        )
    ).all()
    return _frame(rows, ["entity_id", "campaign", "ad_group", "date", *_VALUES])


def _leaf_sums(
    connection: Connection, account_id: int, campaigns: list[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Keyword rows summed per campaign, ad group and day."""
    day = _day(performance.c.date)
    rows = connection.execute(
        select(
            entities.c.campaign,
            entities.c.ad_group,
            day,
            *(func.sum(performance.c[name]) for name in _VALUES),
        )
        .join_from(performance, entities, entities.c.id == performance.c.entity_id)
        .where(
            performance.c.account_id == account_id,
            entities.c.campaign.in_(campaigns),
            entities.c.keyword != "",
            performance.c.date >= start,
            performance.c.date <= end,
        )
        .group_by(entities.c.campaign, entities.c.ad_group, day)
    ).all()
    return _frame(rows, ["campaign", "ad_group", "date", *_VALUES])


def _remainders(totals: pd.DataFrame, leaves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows `performance` should hold for the totals' entities, and the totals that their
    finer rows exceed (with both spends)."""
    values = list(_VALUES)
    groups = totals[totals["ad_group"] != ""]
    campaigns = totals[totals["ad_group"] == ""]
    group_children = _sum_by(leaves, ["campaign", "ad_group", "date"])
    groups_out, groups_bad = _subtract(groups, group_children, ["campaign", "ad_group", "date"])
    kept_groups = groups_out.loc[groups_out["keep"], ["campaign", "date", *values]]
    finer = pd.concat([leaves[["campaign", "date", *values]], kept_groups], ignore_index=True)
    campaign_children = _sum_by(finer, ["campaign", "date"])
    campaigns_out, campaigns_bad = _subtract(campaigns, campaign_children, ["campaign", "date"])
    wanted = pd.concat([groups_out, campaigns_out], ignore_index=True)
    wanted = wanted.loc[wanted["keep"], ["entity_id", "date", *values]]
    return wanted, pd.concat([groups_bad, campaigns_bad], ignore_index=True)


def _sum_by(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=[*keys, *_VALUES])
    return frame.groupby(keys, as_index=False)[list(_VALUES)].sum()


def _subtract(
    totals: pd.DataFrame, children: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if totals.empty:
        empty = totals.assign(keep=pd.Series(dtype=bool), children_spend=pd.Series(dtype=float))
        return empty, empty
    merged = totals.merge(children, on=keys, how="left", suffixes=("", "_children"))
    has_children = merged["spend_micros_children"].notna().to_numpy()
    out = merged[[*totals.columns]].copy()
    for name in _VALUES:
        child = merged[f"{name}_children"].fillna(0).to_numpy(dtype=np.int64)
        out[name] = np.maximum(merged[name].to_numpy(dtype=np.int64) - child, 0)
    total = merged["spend_micros"].to_numpy(dtype=np.int64)
    rest = out["spend_micros"].to_numpy(dtype=np.int64)
    children_spend = merged["spend_micros_children"].fillna(0).to_numpy(dtype=np.int64)
    real = rest >= np.maximum(SHARE * total, MIN_SPEND_MICROS)
    out["keep"] = ~has_children | real
    over = has_children & (children_spend > total + np.maximum(SHARE * total, MIN_SPEND_MICROS))
    bad = merged.loc[over, ["campaign", "ad_group", "date", "spend_micros"]].assign(
        children_spend=children_spend[over]
    )
    return out, bad


def _write(
    connection: Connection,
    account_id: int,
    totals: pd.DataFrame,
    wanted: pd.DataFrame,
    now: dt.datetime,
) -> None:
    """Make the totals' entities' rows in `performance` (those days) equal `wanted`, touching
    only rows that differ, so a re-upload changes nothing."""
    keys: list[tuple[int, dt.date]] = [
        (int(entity), day) for entity, day in zip(totals["entity_id"], totals["date"], strict=True)
    ]
    stored: dict[tuple[int, dt.date], tuple[int, ...]] = {}
    for first in range(0, len(keys), _CAMPAIGNS_PER_QUERY):
        batch = keys[first : first + _CAMPAIGNS_PER_QUERY]
        rows = connection.execute(
            select(
                performance.c.entity_id,
                _day(performance.c.date),
                *(performance.c[name] for name in _VALUES),
            ).where(
                performance.c.account_id == account_id,
                tuple_(performance.c.entity_id, performance.c.date).in_(batch),
            )
        ).all()
        for row in rows:
            day = pd.Timestamp(str(row[1])).date()
            stored[(int(row[0]), day)] = tuple(int(v) for v in row[2:])
    target: dict[tuple[int, dt.date], tuple[int, ...]] = {
        (int(entity), day): tuple(int(v) for v in values)
        for entity, day, *values in wanted.itertuples(index=False, name=None)
    }
    stale = [key for key, values in stored.items() if target.get(key) != values]
    for first in range(0, len(stale), _CAMPAIGNS_PER_QUERY):
        connection.execute(
            delete(performance).where(
                and_(
                    performance.c.account_id == account_id,
                    tuple_(performance.c.entity_id, performance.c.date).in_(
                        stale[first : first + _CAMPAIGNS_PER_QUERY]
                    ),
                )
            )
        )
    fresh = [(key, values) for key, values in target.items() if stored.get(key) != values]
    if fresh:
        connection.execute(
            performance.insert(),
            [
                {
                    "entity_id": entity_id,
                    "date": day,
                    "account_id": account_id,
                    **dict(zip(_VALUES, values, strict=True)),
                    "updated_at": now,
                }
                for (entity_id, day), values in fresh
            ],
        )


def _describe(bad: pd.DataFrame) -> list[str]:
    notes = []
    for (campaign, ad_group), rows in bad.groupby(["campaign", "ad_group"], sort=True):
        level = (
            f"ad group '{ad_group}' of campaign '{campaign}'"
            if ad_group
            else (f"campaign '{campaign}'")
        )
        first = rows.sort_values("date").iloc[0]
        notes.append(
            f"{level}: its keywords add up to more than its own total on {len(rows)} day(s) "
            f"(first {first['date']}: keywords {first['children_spend'] / MICROS:,.2f}, total "
            f"{first['spend_micros'] / MICROS:,.2f}); the keyword rows were kept and the total "
            "adds nothing (check that both reports cover the same days and conversions)"
        )
    return notes
