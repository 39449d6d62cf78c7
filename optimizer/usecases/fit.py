"""Fit an account's response curves from its stored history and keep them as a new version.

The fit gets what the rows cannot say (`FitContext`): the account's confirmed events, and its
conversion lag profile: from its lag report when it has one, else learned from what successive
uploads said about the same days (`store.snapshots`), else the documented default (which assumes,
as nightly exports are, that each export was made right after its last day). Rows a week or a
month apart are fitted on that grain. Runs of days the curves cannot explain are stored as
proposed events, for a person to confirm or dismiss. The new version, its proposals and its audit
entry are written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, select

from optimizer.access import LOCAL_OPERATOR, Action, Principal, require
from optimizer.errors import CancelledError, InvalidInputError, NotFoundError
from optimizer.models import FitOptions
from optimizer.models.account import AccountWindow, fit_account_slices
from optimizer.models.context import FitContext, detect_grain
from optimizer.models.engines import FitEngine
from optimizer.models.lag import DEFAULT_LAG, LagProfile, learn_lag
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
from optimizer.store.snapshots import (
    SNAPSHOT_DAYS,
    last_reported,
    load_lag_report,
    load_snapshots,
    save_lag_report,
)
from optimizer.store.tables import performance
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.audit import record
from optimizer.usecases.events import confirmed_events, propose_events

__all__ = ["FitOutcome", "account_context", "fit", "latest_curves", "set_lag_report"]


@dataclass(frozen=True)
class FitOutcome:
    """The curve set now current for the account, whether this call fitted it, and how many
    events it proposed that were new."""

    account: Account
    stored: StoredCurveSet
    refitted: bool
    proposed_events: int = 0


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
    should_stop: Callable[[], bool] | None = None,
) -> FitOutcome:
    """Fit every entity of the account; with `only_if_changed`, reuse the latest fit when no row
    was inserted or updated since it was made (the nightly job's rule).

    `fit_engine` is 'local' or 'dask' (see `optimizer.models.engines`); the Dask scheduler is
    `dask_address`, else the `PPCOPT_DASK_ADDRESS` setting. `principal` is who the audit entry of
    a new version names (a reused fit writes nothing). `should_stop` is asked between units of
    work (each fitted batch, and before storing): once it answers True the fit raises
    `CancelledError` and stores nothing (an API request whose client went away)."""
    settings = get_settings()
    progress = _stoppable(progress, should_stop)
    _stop_if_asked(should_stop)
    # One snapshot for the fingerprint and every slice: an upload landing mid-fit is not half in.
    with transaction(engine, snapshot=True) as connection:
        account = find_account(connection, account_name)
        context = account_context(connection, account.id)
        fingerprint = f"{data_fingerprint(connection, account.id)}|{_context_key(context)}"
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
            grain=detect_grain(_dates(connection, account.id)),
        )
        slices = (
            to_model_frame(select_stored(connection, account.id, None, None, campaigns))
            for campaigns in layout.slices
        )
        curve_set = fit_account_slices(
            slices,
            window,
            options,
            context=context,
            n_jobs=n_jobs,
            engine=fit_engine,
            dask_address=dask_address or settings.dask_address,
            progress=progress,
        )
    _stop_if_asked(should_stop)
    with transaction(engine) as connection:
        saved = save_curve_set(connection, account.id, curve_set, fingerprint)
        proposed = propose_events(connection, account.id, curve_set.proposed_events)
        record(
            connection,
            principal,
            "curves.fit",
            f"curve set {saved.version}",
            account_id=account.id,
            after={
                "version": saved.version,
                "refitted": True,
                "entities": len(curve_set),
                "proposed_events": proposed,
            },
        )
    return FitOutcome(account, saved, refitted=True, proposed_events=proposed)


def _stop_if_asked(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise CancelledError("the fit was stopped because its caller went away; nothing was stored")


def _stoppable(
    progress: Callable[[int, int], None] | None, should_stop: Callable[[], bool] | None
) -> Callable[[int, int], None] | None:
    if should_stop is None:
        return progress

    def checked(done: int, total: int) -> None:
        _stop_if_asked(should_stop)
        if progress is not None:
            progress(done, total)

    return checked


def account_context(connection: Connection, account_id: int) -> FitContext:
    """The account's confirmed events and lag profile (report, else learned, else the default),
    with the day each recent day was last reported (`FitContext.reported`)."""
    lag = load_lag_report(connection, account_id)
    last = connection.execute(
        select(performance.c.date)
        .where(performance.c.account_id == account_id)
        .order_by(performance.c.date.desc())
        .limit(1)
    ).scalar_one_or_none()
    reported: dict[dt.date, dt.date] = {}
    if last is not None:
        newest = dt.date.fromisoformat(str(last))
        if lag is None:
            since = newest - dt.timedelta(days=SNAPSHOT_DAYS)
            lag = learn_lag(load_snapshots(connection, account_id, since))
        lookback = max(SNAPSHOT_DAYS, 0 if lag is None else lag.horizon)
        reported = last_reported(connection, account_id, newest - dt.timedelta(days=lookback))
    return FitContext(
        lag=DEFAULT_LAG if lag is None else lag,
        events=confirmed_events(connection, account_id),
        reported=reported,
    )


def set_lag_report(
    engine: Engine,
    principal: Principal,
    account_name: str,
    profile: LagProfile,
    source_name: str,
) -> None:
    """Keep the account's conversion-lag report; fits use it from now on (audited)."""
    require(principal, Action.FIT_RUN)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        before = load_lag_report(connection, account.id)
        save_lag_report(connection, account.id, profile, source_name, now=dt.datetime.now(dt.UTC))
        record(
            connection,
            principal,
            "lag.report",
            f"lag report {source_name}",
            account_id=account.id,
            before=None if before is None else before.to_dict(),
            after=profile.to_dict(),
        )


def _dates(connection: Connection, account_id: int) -> npt.NDArray[np.datetime64]:
    rows = connection.execute(
        select(performance.c.date).distinct().where(performance.c.account_id == account_id)
    ).scalars()
    return np.array([str(d) for d in rows], dtype="datetime64[D]")


def _context_key(context: FitContext) -> str:
    """A short hash of what the fit uses besides the rows (so a new event or lag report refits)."""
    text = json.dumps(
        {
            "lag": None if context.lag is None else context.lag.to_dict(),
            "events": [[e.start.isoformat(), e.end.isoformat(), e.kind] for e in context.events],
            "reported": sorted([d.isoformat(), a.isoformat()] for d, a in context.reported.items()),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def latest_curves(engine: Engine, account_name: str, version: int | None = None) -> StoredCurveSet:
    """The account's newest fitted curves (or a given version)."""
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        return load_curve_set(connection, account.id, version)
