"""`ppcopt accuracy` (the ledger: published predictions against what happened) and `ppcopt
backtest` (past weeks predicted by fits that did not see them), scored the same way."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli._common import open_store, read_history_file
from cli.keys import operator
from optimizer.access import Role

if TYPE_CHECKING:
    from optimizer.accuracy import Accuracy

__all__ = ["accuracy_command", "backtest_command"]

_AS = typer.Option(None, "--as", help="Who is asking (default: your user name).")


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.1%}"


def _summary(accuracy: Accuracy, what: str) -> str:
    pct = accuracy.median_abs_pct_error
    return (
        f"{what}: {accuracy.days} day(s), {accuracy.entities} entities; predicted "
        f"{accuracy.predicted:,.2f} conversions at the spend made, actual {accuracy.actual:,.2f} "
        f"(total error {_pct(accuracy.total_error)}, daily bias {_pct(accuracy.daily_bias)}); "
        f"median |error| per entity {accuracy.median_abs_error:,.2f} "
        f"({'n/a' if math.isnan(pct) else f'{pct:.1%}'} of actual where >= 5); "
        f"80% band coverage {accuracy.coverage:.0%}"
    )


def accuracy_command(
    account: str = typer.Option(..., "--account"),
    since: dt.datetime | None = typer.Option(None, "--since", formats=["%Y-%m-%d"]),
    until: dt.datetime | None = typer.Option(None, "--until", formats=["%Y-%m-%d"]),
    mature_days: int = typer.Option(
        7, "--mature-days", help="Leave out days younger than this (conversions still arriving)."
    ),
    actor: str | None = _AS,
) -> None:
    """How well the published plans predicted: per account (stderr) and per campaign (CSV)."""
    from optimizer.report import to_safe_csv
    from optimizer.usecases.accuracy import ledger_accuracy

    result = ledger_accuracy(
        open_store(),
        operator(actor, Role.MANAGER),
        account,
        since=since.date() if since else None,
        until=until.date() if until else None,
        mature_days=mature_days,
    )
    what = f"{result.account} {result.start.isoformat()}..{result.end.isoformat()}"
    typer.echo(_summary(result.accuracy, f"{what}, {result.plans} published day(s)"), err=True)
    typer.echo(
        "bands as fitted (no calibration stored)"
        if result.band_scale == 1
        else f"bands calibrated to {result.band_scale:.2f}x their fitted width",
        err=True,
    )
    typer.echo(to_safe_csv(result.accuracy.by_campaign.round(4)), nl=False)


def backtest_command(
    account: str | None = typer.Option(None, "--account"),
    data: Path | None = typer.Option(None, "--data", help="A history file instead of an account."),
    weeks: int = typer.Option(8, "--weeks", help="How many past weeks to hold out, one by one."),
    store_calibration: bool = typer.Option(
        False, "--calibrate", help="Store the band scale for the account's plans (with --account)."
    ),
    mature_days: int = typer.Option(
        7,
        "--mature-days",
        help="End the newest held-out week this many days before the last day (conversions "
        "still arriving); 0 for a file without conversion lag.",
    ),
    actor: str | None = _AS,
) -> None:
    """Fit on the data before each of the last weeks, predict the week, score it (CSV per week)."""
    import pandas as pd

    from optimizer.backtest import backtest, calibrate
    from optimizer.errors import InvalidInputError
    from optimizer.models import fit_account
    from optimizer.report import to_safe_csv

    if (account is None) == (data is None):
        raise InvalidInputError("give either --account or --data")
    if store_calibration and account is None:
        raise InvalidInputError("--calibrate stores the scale on an account: give --account")
    if data is not None:
        result = backtest(
            read_history_file(data), weeks=weeks, fit=fit_account, mature_days=mature_days
        )
        fitted = calibrate(result.pairs)
    elif store_calibration:
        from optimizer.usecases.accuracy import calibrate_account

        assert account is not None
        who = operator(actor, Role.MANAGER)
        result, fitted = calibrate_account(
            open_store(), who, account, weeks=weeks, mature_days=mature_days
        )
    else:
        from optimizer.usecases.accuracy import account_backtest

        assert account is not None
        who = operator(actor, Role.MANAGER)
        result = account_backtest(open_store(), who, account, weeks=weeks, mature_days=mature_days)
        fitted = calibrate(result.pairs)
    rows = [
        {
            "week_start": w.start.isoformat(),
            "week_end": w.end.isoformat(),
            "predicted": round(w.accuracy.predicted, 2),
            "actual": round(w.accuracy.actual, 2),
            "total_error": round(w.accuracy.total_error, 4),
            "median_abs_pct_error": round(w.accuracy.median_abs_pct_error, 4),
            "coverage_80": round(w.accuracy.coverage, 4),
        }
        for w in result.weeks
    ]
    typer.echo(_summary(result.overall, f"backtest over {len(result.weeks)} week(s)"), err=True)
    stored = " (stored: plans and scores use it)" if store_calibration else ""
    typer.echo(
        f"calibration: the 80% band held {fitted.coverage_before:.0%} of entity weeks out of "
        f"sample; {fitted.scale:.2f}x its width holds {fitted.coverage_after:.0%}{stored}",
        err=True,
    )
    typer.echo(to_safe_csv(pd.DataFrame(rows)), nl=False)
