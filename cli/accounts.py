"""`ppcopt accounts ...`: create and list advertiser accounts."""

from __future__ import annotations

import typer

from cli._common import open_store

__all__ = ["app"]

app = typer.Typer(help="Create and list accounts.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Account name, unique."),
    currency: str = typer.Option(..., "--currency", help="ISO 4217 code, e.g. EUR."),
    timezone: str = typer.Option(..., "--timezone", help="IANA time zone, e.g. Europe/Berlin."),
    locale: str | None = typer.Option(
        None,
        "--locale",
        help="How the account's people write amounts and dates, e.g. de_DE (1.234,50) or en_US.",
    ),
) -> None:
    """Create an account with its currency, time zone and (optional) locale."""
    from optimizer.usecases.accounts import create_account

    account = create_account(
        open_store(), name, currency=currency, timezone=timezone, locale=locale
    )
    typer.echo(
        f"created account '{account.name}' ({account.currency}, {account.timezone}"
        f"{', ' + account.locale if account.locale else ''})"
    )


@app.command("locale")
def locale_(
    name: str = typer.Argument(..., help="Account name."),
    locale: str | None = typer.Argument(None, help="A CLDR locale id, e.g. de_DE or en_GB."),
    clear: bool = typer.Option(False, "--clear", help="Forget the locale."),
) -> None:
    """Set the locale by which typed amounts (and exports' dates) of the account are read."""
    from optimizer.errors import InvalidInputError
    from optimizer.usecases.accounts import set_locale

    if (locale is None) == (not clear):
        raise InvalidInputError("give a locale (e.g. de_DE) or --clear, not both or neither")
    account = set_locale(open_store(), name, None if clear else locale)
    typer.echo(f"account '{account.name}': locale {account.locale or 'not set'}")


@app.command("list")
def list_() -> None:
    """List accounts."""
    from optimizer.usecases.accounts import list_accounts

    for account in list_accounts(open_store()):
        typer.echo(
            f"{account.name}\t{account.currency}\t{account.timezone}\t{account.locale or '-'}"
        )


@app.command("link")
def link(
    name: str = typer.Argument(..., help="Account name."),
    platform: str = typer.Option(..., "--platform", help="google_ads or microsoft_ads."),
    customer_id: str = typer.Option(
        ..., "--customer-id", help="The platform's customer / account ID, e.g. 123-456-7890."
    ),
) -> None:
    """Say which platform account this is, so manager (MCC) reports find its rows."""
    from optimizer.usecases.accounts import link_account

    account = link_account(open_store(), name, platform=platform, customer_id=customer_id)
    typer.echo(f"account '{account.name}' is {platform} customer {customer_id}")
