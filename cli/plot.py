"""`ppcopt plot curves|frontier|allocation`: pictures of an account's curves and plan."""

from __future__ import annotations

from pathlib import Path

import typer

from cli._common import DECIMAL_MARK, account_decimal_comma, open_store

__all__ = ["app"]

app = typer.Typer(help="Draw curves, the budget frontier and the plan.", no_args_is_help=True)

_ACCOUNT = typer.Option(..., "--account", help="A stored account with fitted curves.")
_OUT = typer.Option(..., "--out", help="Folder for the pictures.")
_FORMAT = typer.Option("png", "--format", help="png or svg")


@app.command("curves")
def curves(
    account: str = _ACCOUNT,
    out: Path = _OUT,
    top: int = typer.Option(12, "--top", min=1, help="The N entities with the most spend."),
    entity: list[str] | None = typer.Option(None, "--entity", help="Entity ids to draw."),
    fmt: str = _FORMAT,
) -> None:
    """One picture per entity: daily points by weekday, fitted curve, band, trust region; for an
    entity fitted as a click funnel, a second picture of its two parts (spend -> clicks, clicks ->
    conversions)."""
    from optimizer.plots import curve_figure, funnel_figure, per_day, save_figure
    from optimizer.schema import NAME_COLUMNS
    from optimizer.usecases.fit import latest_curves
    from optimizer.usecases.ingest import load_history

    engine = open_store()
    stored = latest_curves(engine, account)
    chosen = [c for c in stored.curve_set if not entity or c.entity_id in entity]
    chosen.sort(key=lambda c: c.current_spend, reverse=True)
    if not entity:
        chosen = chosen[:top]
    history = per_day(load_history(engine, account), stored.curve_set.grain)
    keys = history[list(NAME_COLUMNS)].astype(str).agg("\x1f".join, axis=1)
    for curve in chosen:
        key = "\x1f".join(getattr(curve.key, n) for n in NAME_COLUMNS)
        path = out / f"curve-{curve.entity_id}.{fmt}"
        rows = history[keys == key]
        save_figure(curve_figure(curve, rows), path)
        typer.echo(f"wrote {path}")
        if curve.diagnostics.mode == "funnel":
            path = out / f"funnel-{curve.entity_id}.{fmt}"
            save_figure(funnel_figure(curve, rows), path)
            typer.echo(f"wrote {path}")


@app.command("frontier")
def frontier(account: str = _ACCOUNT, out: Path = _OUT, fmt: str = _FORMAT) -> None:
    """Expected conversions and CPA across total budgets of 50%..200% of current spend."""
    from optimizer.plots import frontier_figure, save_figure
    from optimizer.solver import AllocationRequest
    from optimizer.usecases.optimize import frontier as account_frontier

    engine = open_store()
    result = account_frontier(engine, account, AllocationRequest(currency="EUR"))
    path = out / f"frontier.{fmt}"
    save_figure(frontier_figure(result), path)
    typer.echo(f"wrote {path}")


@app.command("allocation")
def allocation(
    account: str = _ACCOUNT,
    out: Path = _OUT,
    budget: str | None = typer.Option(None, "--budget", help="Daily budget (default: current)."),
    fmt: str = _FORMAT,
    decimal_comma: bool | None = DECIMAL_MARK,
) -> None:
    """Current vs recommended spend per campaign for a daily budget."""
    from optimizer.money import parse_amount
    from optimizer.plots import allocation_figure, save_figure
    from optimizer.schema import MICROS
    from optimizer.solver import AllocationRequest
    from optimizer.usecases.fit import latest_curves
    from optimizer.usecases.optimize import plan

    engine = open_store()
    amount = (
        parse_amount(
            budget,
            field="--budget",
            decimal_comma=account_decimal_comma(engine, account, decimal_comma),
        )
        if budget is not None
        else round(sum(c.current_spend for c in latest_curves(engine, account).curve_set) * MICROS)
    )
    result = plan(engine, account, AllocationRequest(currency="EUR", budget_micros=amount))
    path = out / f"allocation.{fmt}"
    save_figure(allocation_figure(result.plan.allocation), path)
    typer.echo(f"wrote {path}")
