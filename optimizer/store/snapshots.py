"""What successive uploads said about the same recent days, and the account's lag report.

Every upload writes, in its own transaction, one row per campaign and day of its last 90 days: the
campaign's conversions that day as the upload reported them, and the upload's last date (`as_of`).
A day's conversions grow from one upload to the next while they are still being reported; those
rows are what `optimizer.models.lag.learn_lag` learns the account's lag profile from. Per campaign,
not per keyword: a nightly re-export of the last 30 days for 10,000 keywords would add 300,000 rows
a night, where the campaigns' totals carry the same growth.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select

from optimizer.models.lag import LagProfile
from optimizer.store.tables import conversion_snapshots, lag_reports

__all__ = [
    "SNAPSHOT_DAYS",
    "last_reported",
    "load_lag_report",
    "load_snapshots",
    "record_snapshots",
    "save_lag_report",
]

SNAPSHOT_DAYS = 90
"""Days before an upload's last date it keeps a snapshot of (older days are complete)."""

_MICROS = 1_000_000


def record_snapshots(
    connection: Connection, account_id: int, frame: pd.DataFrame, *, now: dt.datetime
) -> int:
    """Keep what this upload (stored shape) says of each campaign's recent days; how many of those
    campaign days gained conversions since the last upload that showed them (late conversions, the
    normal case under conversion lag). A day the same upload date already recorded with the same
    figure is not written again, so re-ingesting a file adds nothing."""
    if frame.empty:
        return 0
    dates = pd.to_datetime(frame["date"])
    as_of = dates.max()
    recent = dates >= as_of - pd.Timedelta(days=SNAPSHOT_DAYS)
    sums = (
        frame.loc[recent]
        .assign(date=dates[recent].dt.date, campaign=frame.loc[recent, "campaign"].astype(str))
        .groupby(["campaign", "date"], observed=True)["conversions_micros"]
        .sum()
    )
    if sums.empty:
        return 0
    earlier = _latest(connection, account_id, as_of.date() - dt.timedelta(days=SNAPSHOT_DAYS))
    before = earlier.reindex(sums.index)
    gained = int(((sums - before["value"]) > 0).sum())
    repeated = (before["as_of"] == as_of.date()) & (before["value"] == sums)
    fresh = sums[~repeated.to_numpy()]
    rows = [
        {
            "account_id": account_id,
            "campaign": str(campaign),
            "date": day,
            "as_of": as_of.date(),
            "conversions_micros": int(value),
            "recorded_at": now,
        }
        for campaign, day, value in zip(
            fresh.index.get_level_values(0),
            fresh.index.get_level_values(1),
            fresh.to_numpy(),
            strict=True,
        )
    ]
    if rows:
        connection.execute(insert(conversion_snapshots), rows)
    return gained


def _latest(connection: Connection, account_id: int, since: dt.date) -> pd.DataFrame:
    """The last snapshot written per (campaign, day) of days from `since` on, which is the newest
    upload ingested (the performance rows hold its figures): its `value` (micros) and `as_of`,
    indexed by (campaign, date)."""
    snapshots = conversion_snapshots.c
    newest = (
        select(func.max(snapshots.id).label("id"))
        .where(snapshots.account_id == account_id, snapshots.date >= since)
        .group_by(snapshots.campaign, snapshots.date)
        .subquery()
    )
    rows = connection.execute(
        select(
            snapshots.campaign, snapshots.date, snapshots.as_of, snapshots.conversions_micros
        ).join(newest, snapshots.id == newest.c.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["campaign", "date", "as_of", "value"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["value"] = frame["value"].astype(np.float64)
    return frame.set_index(["campaign", "date"])[["value", "as_of"]]


def load_snapshots(connection: Connection, account_id: int, since: dt.date) -> pd.DataFrame:
    """Snapshots of uploads whose last date is `since` or later: `campaign`, `date`, `as_of`,
    `upload` (increasing with upload order) and `conversions` (in conversions, not micros)."""
    rows = connection.execute(
        select(
            conversion_snapshots.c.id,
            conversion_snapshots.c.campaign,
            conversion_snapshots.c.date,
            conversion_snapshots.c.as_of,
            conversion_snapshots.c.conversions_micros,
        ).where(
            conversion_snapshots.c.account_id == account_id,
            conversion_snapshots.c.as_of >= since,
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["upload", "campaign", "date", "as_of", "micros"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["conversions"] = frame.pop("micros").astype(np.float64) / _MICROS
    return frame


def last_reported(
    connection: Connection, account_id: int, since: dt.date
) -> dict[dt.date, dt.date]:
    """Each day from `since` on: the last date of the upload whose figures the store holds for it
    (the newest ingested, not the latest-dated: an old file ingested again is what the day shows),
    the earliest of the day's campaigns, so an upload of some campaigns does not vouch for the
    others."""
    earliest = _latest(connection, account_id, since)["as_of"].groupby(level="date").min()
    return cast(dict[dt.date, dt.date], earliest.to_dict())


def save_lag_report(
    connection: Connection,
    account_id: int,
    profile: LagProfile,
    source_name: str,
    *,
    now: dt.datetime,
) -> None:
    """Keep the account's lag report (a new one replaces the old)."""
    connection.execute(delete(lag_reports).where(lag_reports.c.account_id == account_id))
    connection.execute(
        insert(lag_reports).values(
            account_id=account_id,
            source_name=source_name,
            profile=json.dumps(profile.to_dict()),
            stored_at=now,
        )
    )


def load_lag_report(connection: Connection, account_id: int) -> LagProfile | None:
    text = connection.execute(
        select(lag_reports.c.profile).where(lag_reports.c.account_id == account_id)
    ).scalar_one_or_none()
    return None if text is None else LagProfile.from_dict(json.loads(text))
