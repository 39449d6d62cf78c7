"""Fit an account's response curves from its stored history and keep them as a new version.

The new version and its audit entry are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from optimizer.access import LOCAL_OPERATOR, Principal
from optimizer.errors import InvalidInputError, NotFoundError
from optimizer.models import FitOptions
from optimizer.models.account import AccountWindow, fit_account_slices
from optimizer.models.engines import FitEngine
from optimizer.schema import to_model_frame
from optimizer.settings import get_settings
from optimizer.store.curves import (
    StoredCurveSet,
    data_fingerprint,
    load_curve_set,
    save_curve_set,
)
from optimizer.store.engine import transaction
from optimizer.store.performance import history_layout, select_stored
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.audit import record

__all__ = ["FitOutcome", "fit", "latest_curves"]


@dataclass(frozen=True)
class FitOutcome:
    """The curve set now current for the account, and whether this call fitted it."""

    account: Account
    stored: StoredCurveSet
    refitted: bool


def fit(
    engine: Engine,
    account_name: str,
    *,
    options: FitOptions | None = None,
    n_jobs: int = 1,
    fit_engine: str | FitEngine = "local",
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    only_if_changed: bool = False,
    principal: Principal = LOCAL_OPERATOR,
) -> FitOutcome:
    """Fit every entity of the account; with `only_if_changed`, reuse the latest fit when no row
    was inserted or updated since it was made (the nightly job's rule).

    `fit_engine` is 'local' or 'dask' (see `optimizer.models.engines`); the Dask scheduler is
    `dask_address`, else the `PPCOPT_DASK_ADDRESS` setting. `principal` is who the audit entry of
    a new version names (a reused fit writes nothing)."""
    settings = get_settings()
    # One snapshot for the fingerprint and every slice: an upload landing mid-fit is not half in.
    with transaction(engine, snapshot=True) as connection:
        account = find_account(connection, account_name)
        fingerprint = data_fingerprint(connection, account.id)
        if only_if_changed:
            try:
                latest = load_curve_set(connection, account.id)
            except NotFoundError:
                latest = None
            if latest is not None and latest.data_fingerprint == fingerprint:
                return FitOutcome(account, latest, refitted=False)
        layout = history_layout(connection, account.id, settings.fit_slice_rows)
        if layout is None:
            raise InvalidInputError(
                f"account '{account.name}' has no performance data yet; ingest a file first"
            )
        window = AccountWindow(
            start=layout.first,
            end=layout.last,
            value_per_conversion=(
                layout.value_micros / layout.conversions_micros
                if layout.conversions_micros > 0
                else 0.0
            ),
            entities=layout.spending_entities,
        )
        slices = (
            to_model_frame(select_stored(connection, account.id, None, None, campaigns))
            for campaigns in layout.slices
        )
        curve_set = fit_account_slices(
            slices,
            window,
            options,
            n_jobs=n_jobs,
            engine=fit_engine,
            dask_address=dask_address or settings.dask_address,
            progress=progress,
        )
    with transaction(engine) as connection:
        saved = save_curve_set(connection, account.id, curve_set, fingerprint)
        record(
            connection,
            principal,
            "curves.fit",
            f"curve set {saved.version}",
            account_id=account.id,
            after={"version": saved.version, "refitted": True, "entities": len(curve_set)},
        )
    return FitOutcome(account, saved, refitted=True)


def latest_curves(engine: Engine, account_name: str, version: int | None = None) -> StoredCurveSet:
    """The account's newest fitted curves (or a given version)."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        return load_curve_set(connection, account.id, version)
