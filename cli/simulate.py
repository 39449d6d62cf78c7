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
    lag: bool = typer.Option(
        False, "--lag", help="Report conversions over the following weeks (typical lag)."
    ),
    auction: bool = typer.Option(
        False, "--auction", help="Clicks along the curve, a steady conversion rate per click."
    ),
    s_shaped_share: float = typer.Option(
        0.0, "--s-shaped-share", min=0.0, max=1.0, help="Share of keywords with an S-shape."
    ),
    campaign_shapes: float = typer.Option(
        0.0,
        "--campaign-shapes",
        min=0.0,
        max=1.0,
        help="Share of each keyword's curve shape taken from its campaign's (1: they bend alike).",
    ),
    budget_limited: int = typer.Option(
        0, "--budget-limited-campaigns", min=0, help="Campaigns with spend pinned at a budget."
    ),
    grain: str = typer.Option("day", "--grain", help="day, week or month rows."),
) -> None:
    """Simulate daily performance from known curves, for demos, tests and benchmarks; the options
    switch on real-world effects (see `optimizer.simulate.scenario`)."""
    from optimizer.io import write_canonical_csv
    from optimizer.simulate import ConversionLag, Scenario, simulate

    simulation = simulate(
        campaigns=campaigns,
        keywords_per_campaign=keywords_per_campaign,
        days=days,
        seed=seed,
        start=start.date() if start else None,
        scenario=Scenario(
            lag=ConversionLag.typical() if lag else None,
            s_shaped_share=s_shaped_share,
            campaign_shapes=campaign_shapes,
            budget_limited_campaigns=budget_limited,
            impression_share=budget_limited > 0,
            auction=auction,
            grain=grain,
        ),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_canonical_csv(simulation.history, out)
    typer.echo(f"wrote {len(simulation.history):,} rows to {out}")
    if truth is not None:
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(simulation.truth.to_json(), encoding="utf-8")
        typer.echo(f"wrote the true curves to {truth}")
