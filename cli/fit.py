"""`ppcopt fit`: fit response curves for a stored account, or straight from a history file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli._common import open_store, read_history_file
from optimizer.errors import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from optimizer.models import CurveSet, EntityCurve
    from optimizer.models.engines import FitEngine

__all__ = ["fit_command", "render_fit_summary"]


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
) -> None:
    """Fit spend -> conversions curves per campaign and keyword, with diagnostics and grades."""
    if (account is None) == (data is None):
        raise InvalidInputError("give exactly one of --account NAME or --data FILE")
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
        if account is not None:
            from optimizer.usecases.fit import fit

            outcome = fit(open_store(), account, fit_engine=fitter, progress=progress)
            curve_set = outcome.stored.curve_set
            header = f"account '{account}': curve set version {outcome.stored.version}"
        else:
            assert data is not None
            curve_set = fit_history_file(data, n_jobs=jobs, progress=progress, engine=fitter)
            header = f"file {data.name}"
    typer.echo(f"{header}, data {curve_set.window_start} to {curve_set.window_end}")
    typer.echo(render_fit_summary(curve_set))
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
) -> CurveSet:
    """Read, validate and fit a history file without touching the store (rejects bad files)."""
    from optimizer.models import fit_account

    return fit_account(read_history_file(path), n_jobs=n_jobs, engine=engine, progress=progress)


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
