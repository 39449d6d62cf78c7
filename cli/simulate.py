"""`ppcopt simulate`: a synthetic account history with its ground truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

__all__ = ["simulate_command"]


def simulate_command(
    campaigns: int = typer.Option(5, "--campaigns", min=1),
    keywords_per_campaign: int = typer.Option(10, "--keywords-per-campaign", min=1),
    days: int = typer.Option(180, "--days", min=14),
    seed: int = typer.Option(0, "--seed"),
    start: dt.datetime | None = typer.Option(
        None, "--start", formats=["%Y-%m-%d"], help="First day (default 2026-01-01)."
    ),
    out: Path = typer.Option(..., "--out", help="History CSV (canonical format)."),
    truth: Path | None = typer.Option(
        None, "--truth", help="Where to write the true curves (JSON)."
    ),
) -> None:
    """Simulate daily performance from known concave curves, for demos, tests and benchmarks."""
    from optimizer.io import write_canonical_csv
    from optimizer.simulate import simulate

    simulation = simulate(
        campaigns=campaigns,
        keywords_per_campaign=keywords_per_campaign,
        days=days,
        seed=seed,
        start=start.date() if start else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_canonical_csv(simulation.history, out)
    typer.echo(f"wrote {len(simulation.history):,} rows to {out}")
    if truth is not None:
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(simulation.truth.to_json(), encoding="utf-8")
        typer.echo(f"wrote the true curves to {truth}")
