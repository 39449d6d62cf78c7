"""`ppcopt accounts ...`: create and list advertiser accounts."""

from __future__ import annotations

import typer

from optimizer.cli._common import open_store

__all__ = ["app"]

app = typer.Typer(help="Create and list accounts.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Account name, unique."),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 code, e.g. EUR."),
    timezone: str = typer.Option(..., "--timezone", help="IANA time zone, e.g. Europe/Berlin."),
) -> None:
    """Create an account with its currency and time zone."""
    from optimizer.usecases.accounts import create_account

    account = create_account(open_store(), name, currency=currency, timezone=timezone)
    typer.echo(f"created account '{account.name}' ({account.currency}, {account.timezone})")


@app.command("list")
def list_() -> None:
    """List accounts."""
    from optimizer.usecases.accounts import list_accounts

    for account in list_accounts(open_store()):
        typer.echo(f"{account.name}\t{account.currency}\t{account.timezone}")
