"""`ppcopt experiments`: where a spend test would teach the most for its cost, and the account's
tests with their read-outs."""

from __future__ import annotations

import json

import typer

from cli._common import open_store
from cli.keys import operator
from optimizer.access import Role

__all__ = ["app"]

app = typer.Typer(help="Spend tests where the curves are unsure.", no_args_is_help=True)
_AS = typer.Option(None, "--as", help="Who is asking (default: your user name).")


@app.command("suggest")
def suggest_command(
    account: str = typer.Option(..., "--account"),
    top: int = typer.Option(10, "--top", min=1, max=10_000),
    actor: str | None = _AS,
) -> None:
    """Entities ranked by a test's value of information net of its cost (CSV on stdout)."""
    from optimizer.report import to_safe_csv
    from optimizer.usecases.experiments import suggest

    found = suggest(open_store(), operator(actor, Role.MANAGER), account)
    design = found.design
    typer.echo(
        f"{found.account}, {found.day:%Y-%m-%d}: {design.blocks} blocks of {design.block_days} "
        f"days at +-{design.step:.0%} of the planned spend, what it teaches used for "
        f"{design.horizon_days} days; gain, cost and net in expected conversions. The policy's "
        f"exploration share is {found.exploration_share:.1%}"
        + (
            " (tests off: `ppcopt policy set --exploration 0.03`)"
            if not found.exploration_share
            else ""
        ),
        err=True,
    )
    typer.echo(to_safe_csv(found.ranked.head(top).round(4)), nl=False)


@app.command("list")
def list_command(account: str = typer.Option(..., "--account"), actor: str | None = _AS) -> None:
    """The account's spend tests, newest first, with each scored test's read-out (JSON)."""
    from optimizer.usecases.experiments import list_experiments

    tests = list_experiments(open_store(), operator(actor, Role.MANAGER), account)
    typer.echo(json.dumps([t.as_dict() for t in tests], indent=1, ensure_ascii=False))
