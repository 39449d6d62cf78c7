"""Versioned curve sets in the store: save a fit, read the latest (or a given) version back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from optimizer.errors import NotFoundError
from optimizer.models import CurveSet, EntityCurve, SkippedEntity
from optimizer.models.curveset import context_fields
from optimizer.schema import NAME_COLUMNS, EntityKey
from optimizer.store.tables import (
    band_calibrations,
    curve_sets,
    curves,
    fit_contexts,
    performance,
)

__all__ = [
    "StoredCurveSet",
    "data_fingerprint",
    "load_curve_set",
    "load_curve_set_by_id",
    "save_curve_set",
]

_INSERT_BATCH = 5_000


@dataclass(frozen=True)
class StoredCurveSet:
    """A curve set with its store id, per-account version and the fingerprint of its data."""

    id: int
    account_id: int
    version: int
    data_fingerprint: str
    curve_set: CurveSet


def data_fingerprint(connection: Connection, account_id: int) -> str:
    """Changes whenever a row of the account is inserted or updated (count and newest write)."""
    count, newest, first, last = connection.execute(
        select(
            func.count(),
            func.max(performance.c.updated_at),
            func.min(performance.c.date),
            func.max(performance.c.date),
        ).where(performance.c.account_id == account_id)
    ).one()
    return f"{count}|{newest}|{first}|{last}"


def save_curve_set(
    connection: Connection, account_id: int, curve_set: CurveSet, fingerprint: str
) -> StoredCurveSet:
    """Store a new version (previous versions stay, for the audit trail and comparisons)."""
    version = (
        connection.execute(
            select(func.coalesce(func.max(curve_sets.c.version), 0)).where(
                curve_sets.c.account_id == account_id
            )
        ).scalar_one()
        + 1
    )
    skipped = [
        {"key": {n: getattr(s.key, n) for n in NAME_COLUMNS}, "reason": s.reason}
        for s in curve_set.skipped
    ]
    set_id = connection.execute(
        insert(curve_sets)
        .values(
            account_id=account_id,
            version=version,
            fitted_at=curve_set.fitted_at,
            window_start=curve_set.window_start,
            window_end=curve_set.window_end,
            data_fingerprint=fingerprint,
            entity_count=len(curve_set),
            format_version=curve_set.version,
            skipped=json.dumps(skipped, ensure_ascii=False),
        )
        .returning(curve_sets.c.id)
    ).scalar_one()
    rows = [
        {
            "curve_set_id": set_id,
            "entity_id": curve.entity_id,
            "campaign": curve.key.campaign,
            "family": curve.lookup_name,
            "grade": curve.diagnostics.grade,
            "payload": json.dumps(curve.to_dict(), ensure_ascii=False, allow_nan=False),
        }
        for curve in curve_set
    ]
    for start in range(0, len(rows), _INSERT_BATCH):
        connection.execute(insert(curves), rows[start : start + _INSERT_BATCH])
    context = curve_set.context_dict()
    if context:
        connection.execute(
            insert(fit_contexts).values(
                curve_set_id=set_id, payload=json.dumps(context, ensure_ascii=False)
            )
        )
    return StoredCurveSet(set_id, account_id, version, fingerprint, curve_set)


def load_curve_set(
    connection: Connection, account_id: int, version: int | None = None
) -> StoredCurveSet:
    """The newest curve set of the account (or the given version); NotFoundError if none."""
    query = select(curve_sets).where(curve_sets.c.account_id == account_id)
    if version is not None:
        query = query.where(curve_sets.c.version == version)
    header = connection.execute(query.order_by(curve_sets.c.version.desc()).limit(1)).first()
    if header is None:
        wanted = "no fitted curves" if version is None else f"no curve set version {version}"
        raise NotFoundError(f"{wanted} for this account; run a fit first (`ppcopt fit`)")
    return _loaded(connection, header)


def load_curve_set_by_id(connection: Connection, curve_set_id: int) -> StoredCurveSet:
    """The curve set a published plan used (its id is in the plan and the ledger)."""
    header = connection.execute(select(curve_sets).where(curve_sets.c.id == curve_set_id)).first()
    if header is None:
        raise NotFoundError(f"no curve set with id {curve_set_id}")
    return _loaded(connection, header)


def _loaded(connection: Connection, header: Any) -> StoredCurveSet:
    payloads = connection.execute(
        select(curves.c.payload)
        .where(curves.c.curve_set_id == header.id)
        .order_by(curves.c.entity_id)
    ).scalars()
    fitted = tuple(EntityCurve.from_dict(json.loads(p)) for p in payloads)
    skipped = tuple(
        SkippedEntity(EntityKey(**s["key"]), s["reason"]) for s in json.loads(header.skipped)
    )
    context = connection.execute(
        select(fit_contexts.c.payload).where(fit_contexts.c.curve_set_id == header.id)
    ).scalar_one_or_none()
    scale = connection.execute(
        select(band_calibrations.c.scale)
        .where(
            band_calibrations.c.account_id == header.account_id,
            band_calibrations.c.curve_set_id <= header.id,
        )
        .order_by(band_calibrations.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    curve_set = CurveSet(
        curves=fitted,
        window_start=header.window_start,
        window_end=header.window_end,
        fitted_at=header.fitted_at,
        skipped=skipped,
        version=header.format_version,
        **context_fields(json.loads(context) if context else {}),
        band_scale=1.0 if scale is None else float(scale),
    )
    return StoredCurveSet(
        header.id, int(header.account_id), header.version, header.data_fingerprint, curve_set
    )
