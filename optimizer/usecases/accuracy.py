"""The ledger scored: every published day's prediction against the performance reported for it.

Each published plan keeps its per-entity prediction (`predictions`, written with the plan). For
the days of a window that have both a plan and reported performance, the newest plan of the day
names the curve set it used; that curve set is evaluated at the spend actually made, and scored
with `optimizer.accuracy` (its band scaled by the account's newest calibration, so old and new
plans are judged alike). Days younger than `mature_days` are left out by default: their
conversions are still arriving (conversion lag), and scoring them would read lag as optimism.
Re-running later scores the same days with the conversions reported since.

The backtest (`ppcopt backtest`) gives the same numbers for past weeks without waiting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from optimizer.access import Action, Principal, require, require_account
from optimizer.accuracy import Accuracy, predict_at, score
from optimizer.backtest import Backtest, Calibration, backtest, calibrate
from optimizer.errors import InvalidInputError
from optimizer.models import fit_account
from optimizer.schema import to_model_frame
from optimizer.store.curves import load_curve_set, load_curve_set_by_id
from optimizer.store.engine import transaction
from optimizer.store.performance import select_stored
from optimizer.store.tables import band_calibrations, performance, predictions
from optimizer.usecases.accounts import find_account
from optimizer.usecases.audit import record

__all__ = ["LedgerAccuracy", "account_backtest", "calibrate_account", "ledger_accuracy"]

DEFAULT_MATURE_DAYS = 7


@dataclass(frozen=True, eq=False)
class LedgerAccuracy:
    """The ledger's scores over [start, end], how many published days they cover, and the band
    calibration they were scored with (1: the curves' bands as fitted)."""

    account: str
    start: dt.date
    end: dt.date
    plans: int
    accuracy: Accuracy
    band_scale: float = 1.0


def ledger_accuracy(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    mature_days: int = DEFAULT_MATURE_DAYS,
) -> LedgerAccuracy:
    """Score the published predictions of the window (default: every mature published day)."""
    require(principal, Action.CURVES_READ)
    if not 0 <= mature_days <= 366:
        raise InvalidInputError("mature_days must be between 0 and 366")
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        newest = connection.execute(
            select(func.max(performance.c.date)).where(performance.c.account_id == account.id)
        ).scalar_one()
        if newest is None:
            raise InvalidInputError(f"account '{account.name}' has no reported performance yet")
        last = newest - dt.timedelta(days=mature_days)
        end = min(until, last) if until is not None else last
        plan_days = select(
            predictions.c.date, func.max(predictions.c.recommendation_id).label("rec")
        ).where(predictions.c.account_id == account.id, predictions.c.date <= end)
        if since is not None:
            plan_days = plan_days.where(predictions.c.date >= since)
        chosen = connection.execute(
            plan_days.group_by(predictions.c.date).order_by(predictions.c.date)
        ).all()
        if not chosen:
            raise InvalidInputError(
                f"no published day of account '{account.name}' up to {end.isoformat()} has "
                f"reported performance that is {mature_days} days old yet"
            )
        curve_of = dict(
            connection.execute(
                select(predictions.c.recommendation_id, predictions.c.curve_set_id)
                .where(predictions.c.recommendation_id.in_([r.rec for r in chosen]))
                .distinct()
            ).all()
        )
        day_curves: dict[int, list[dt.date]] = {}
        for row in chosen:
            day_curves.setdefault(int(curve_of[row.rec]), []).append(row.date)
        first = chosen[0].date
        actual = to_model_frame(select_stored(connection, account.id, first, end))
        curve_sets = {cid: load_curve_set_by_id(connection, cid) for cid in day_curves}
        scale = load_curve_set(connection, account.id).curve_set.band_scale
    dates = pd.to_datetime(actual["date"]).dt.date
    pairs = [
        predict_at(curve_sets[cid].curve_set, actual[dates.isin(days)], scale)
        for cid, days in day_curves.items()
    ]
    return LedgerAccuracy(
        account.name, first, end, len(chosen), score(pd.concat(pairs, ignore_index=True)), scale
    )


def account_backtest(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    weeks: int,
    mature_days: int = DEFAULT_MATURE_DAYS,
) -> Backtest:
    """Backtest the account's stored history (see `optimizer.backtest`), its newest week ending
    `mature_days` before the last reported day, as the ledger waits."""
    require(principal, Action.CURVES_READ)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        history = to_model_frame(select_stored(connection, account.id, None, None))
    return backtest(history, weeks=weeks, fit=fit_account, mature_days=mature_days)


def calibrate_account(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    weeks: int,
    mature_days: int = DEFAULT_MATURE_DAYS,
) -> tuple[Backtest, Calibration]:
    """Backtest the account with its bands as fitted, and store the band scale that makes the 80%
    band hold 80% of the held-out entity weeks (audited); later plans and scores use it."""
    require(principal, Action.FIT_RUN)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        history = to_model_frame(select_stored(connection, account.id, None, None))
        stored = load_curve_set(connection, account.id)
    result = backtest(history, weeks=weeks, fit=fit_account, mature_days=mature_days)
    fitted = calibrate(result.pairs)
    with transaction(engine) as connection:
        connection.execute(
            insert(band_calibrations).values(
                account_id=account.id,
                curve_set_id=stored.id,
                scale=fitted.scale,
                coverage_before=fitted.coverage_before,
                coverage_after=fitted.coverage_after,
                weeks=len(result.weeks),
                created_at=dt.datetime.now(dt.UTC),
                created_by=principal.actor,
            )
        )
        record(
            connection,
            principal,
            "curves.calibrate",
            f"account {account.name} curve set v{stored.version}",
            account_id=account.id,
            before={"band_scale": stored.curve_set.band_scale},
            after={
                "band_scale": fitted.scale,
                "coverage_before": fitted.coverage_before,
                "coverage_after": fitted.coverage_after,
                "weeks": len(result.weeks),
            },
        )
    return result, fitted
