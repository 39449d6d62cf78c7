"""`ppcopt fit`: fit response curves for a stored account, or straight from a history file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli._common import open_store, read_history_file
from optimizer.errors import InvalidInputError
from optimizer.schema import entity_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from optimizer.models import CurveSet, EntityCurve
    from optimizer.models.context import FitContext
    from optimizer.models.engines import FitEngine
    from optimizer.models.lag import LagProfile

__all__ = ["fit_command", "render_fit_notes", "render_fit_summary"]


def fit_command(
    account: str | None = typer.Option(None, "--account", help="Fit a stored account."),
    data: Path | None = typer.Option(
        None, "--data", exists=True, dir_okay=False, help="Fit a history file (no store)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the curve set as JSON."),
    jobs: int = typer.Option(-1, "--jobs", help="Parallel worker processes (-1: all cores)."),
    engine: str = typer.Option(
        "local", "--engine", help="Where campaigns are fitted: local (--jobs processes) or dask."
    ),
    dask_address: str | None = typer.Option(
        None,
        "--dask-address",
        help="Dask scheduler, e.g. tcp://HOST:8786 (default: PPCOPT_DASK_ADDRESS).",
    ),
    lag_report: Path | None = typer.Option(
        None,
        "--lag-report",
        exists=True,
        dir_okay=False,
        help="Google Ads conversion-lag report (days to conversion, or days and cumulative "
        "share); with --account it is kept for the account's later fits.",
    ),
    no_lag: bool = typer.Option(
        False, "--no-lag", help="With --data: take the file's conversions as final."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who is acting (default: your name)."),
) -> None:
    """Fit spend -> conversions curves per campaign and keyword, with diagnostics and grades.

    Recent days are discounted by the conversion lag (the account's lag report, else learned from
    its re-uploads, else a default); confirmed events are used; rows a week or a month apart are
    fitted on their grain. The lag, the grain and any proposed events are printed.
    """
    if (account is None) == (data is None):
        raise InvalidInputError("give exactly one of --account NAME or --data FILE")
    if no_lag and (account is not None or lag_report is not None):
        raise InvalidInputError("--no-lag goes with --data and without --lag-report")
    report = _lag_report(lag_report) if lag_report is not None else None
    from optimizer.models.engines import resolve_engine
    from optimizer.settings import get_settings

    fitter = resolve_engine(
        engine, n_jobs=jobs, dask_address=dask_address or get_settings().dask_address
    )
    with typer.progressbar(length=1, label="fitting", file=None) as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - state["done"])
            state["done"] = done

        curve_set: CurveSet
        proposed = 0
        if account is not None:
            from cli.keys import operator
            from optimizer.access import Role
            from optimizer.usecases.fit import fit, set_lag_report

            store = open_store()
            if report is not None and lag_report is not None:
                who = operator(actor, Role.MANAGER)
                set_lag_report(store, who, account, report, lag_report.name)
            outcome = fit(store, account, fit_engine=fitter, progress=progress)
            curve_set = outcome.stored.curve_set
            proposed = outcome.proposed_events
            header = f"account '{account}': curve set version {outcome.stored.version}"
        else:
            from optimizer.models.context import FitContext
            from optimizer.models.lag import DEFAULT_LAG, NO_LAG

            assert data is not None
            lag = NO_LAG if no_lag else report or DEFAULT_LAG
            curve_set = fit_history_file(
                data, n_jobs=jobs, progress=progress, engine=fitter, context=FitContext(lag=lag)
            )
            header = f"file {data.name}"
    typer.echo(f"{header}, data {curve_set.window_start} to {curve_set.window_end}")
    typer.echo(render_fit_summary(curve_set))
    for line in render_fit_notes(curve_set, account):
        typer.echo(line)
    if proposed:
        typer.echo(
            f"{proposed} new event(s) proposed: see `ppcopt events list {account} --status "
            "proposed`, then confirm or dismiss each"
        )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(curve_set.to_json(), encoding="utf-8")
        typer.echo(f"wrote {len(curve_set):,} curves to {out}")


def fit_history_file(
    path: Path,
    *,
    n_jobs: int,
    progress: Callable[[int, int], None] | None,
    engine: str | FitEngine = "local",
    context: FitContext | None = None,
) -> CurveSet:
    """Read, validate and fit a history file without touching the store (rejects bad files)."""
    from optimizer.models import fit_account

    return fit_account(
        read_history_file(path), n_jobs=n_jobs, engine=engine, progress=progress, context=context
    )


def _lag_report(path: Path) -> LagProfile:
    from optimizer.io.lag_report import read_lag_report
    from optimizer.models.lag import LagProfile

    report = read_lag_report(path, name=path.name)
    return LagProfile.from_report(report.cumulative, report.detail)


def render_fit_notes(curve_set: CurveSet, account: str | None = None) -> list[str]:
    """What a manager should know beyond the grades: the rows' grain, the conversion lag and how
    many recent days it discounts, the funnel, S-shaped and budget-limited entities, and the
    events the fit proposes."""
    lines = []
    if curve_set.grain != "day":
        lines.append(
            f"rows are a {curve_set.grain} apart: curves fitted on {curve_set.grain}ly totals and "
            "stated per day (budgets are daily); weekday factors cannot be seen and stay at 1"
        )
    if curve_set.lag is not None:
        lines.append(curve_set.lag.describe())
    diagnostics = [c.diagnostics for c in curve_set]
    funnel = sum(d.mode == "funnel" for d in diagnostics)
    if funnel:
        lines.append(f"{funnel:,} entities use the click funnel (shape from spend -> clicks)")
    shaped = sum(c.lookup_name == "s_hill" for c in curve_set)
    if shaped:
        lines.append(
            f"{shaped:,} entities are S-shaped (increasing returns at low spend): the plan gives "
            "each its minimum efficient spend or none"
        )
    limited = [c for c in curve_set if c.diagnostics.budget_limited]
    if limited:
        lines.append(
            f"{len(limited):,} entities look budget-limited; their moves are kept small (e.g. "
            f"{entity_label(limited[0].key)}: {limited[0].diagnostics.budget_reason})"
        )
    for event in curve_set.proposed_events:
        lines.append(
            f"unexplained days {event.start} to {event.end} ({event.kind}): {event.reason}"
        )
    if curve_set.proposed_events and account is None:
        lines.append("mark such days as events in the account (`ppcopt events add`) to use them")
    return lines


def render_fit_summary(curve_set: CurveSet) -> str:
    """One line per campaign: entities, grades, families and the median holdout skill."""
    by_campaign: dict[str, list[EntityCurve]] = {}
    for curve in curve_set:
        by_campaign.setdefault(curve.key.campaign, []).append(curve)
    width = max([len(c) for c in by_campaign] + [8])
    lines = [f"{'campaign':<{width}}  entities  A   B   C   families             median skill"]
    for campaign in sorted(by_campaign):
        fitted = by_campaign[campaign]
        grades = Counter(c.diagnostics.grade for c in fitted)
        families = Counter(c.lookup_name for c in fitted)
        skills = sorted(c.diagnostics.skill for c in fitted if c.diagnostics.skill is not None)
        median = f"{skills[len(skills) // 2]:+.0%}" if skills else "n/a"
        mix = " ".join(f"{name}:{n}" for name, n in sorted(families.items()))
        lines.append(
            f"{campaign:<{width}}  {len(fitted):>8}  {grades['A']:<3} {grades['B']:<3} "
            f"{grades['C']:<3} {mix:<20} {median:>12}"
        )
    if curve_set.skipped:
        lines.append(f"skipped {len(curve_set.skipped):,} entities without spend")
    return "\n".join(lines)
