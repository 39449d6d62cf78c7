"""`ppcopt keys ...`: API keys for the HTTP API (the local operator acts as admin)."""

from __future__ import annotations

import getpass

import typer

from cli._common import open_store
from optimizer.access import Principal, parse_role, system_principal

__all__ = ["app", "operator", "person"]

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


def operator(name: str | None = None, role: str = "admin") -> Principal:
    """The local operator as a principal. `--as NAME` acts as that user, with their role (a name
    that is nobody's is refused); without it, a trusted system principal named `cli:LOGIN` with
    the command's role."""
    if name is None:
        return system_principal(f"cli:{getpass.getuser()}", parse_role(role))
    return person(name)


def person(name: str | None = None) -> Principal:
    """The user named by `--as` (default: your login name): commands where who acts matters
    (caps: four eyes compares people) always act as a user, never as an anonymous operator."""
    from optimizer.usecases.users import user_principal

    return user_principal(open_store(), name or getpass.getuser(), via="cli:")


@app.command("create")
def create(
    role: str = typer.Option(..., "--role", help="manager|finance|script|admin"),
    account: list[str] | None = typer.Option(
        None, "--account", help="Account the key may use (repeatable)."
    ),
    all_accounts: bool = typer.Option(False, "--all-accounts", help="Every account."),
    label: str = typer.Option(..., "--label", help="Who or what uses the key."),
    user: str | None = typer.Option(
        None,
        "--user",
        help="The person the key belongs to (default: the label); new names "
        "become users with the key's role.",
    ),
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    from optimizer.usecases.keys import create_key

    key, plaintext = create_key(
        open_store(),
        operator(),
        role=parse_role(role),
        label=label,
        account_names=account or [],
        all_accounts=all_accounts,
        user=user,
    )
    scope = "all accounts" if key.accounts is None else ", ".join(key.accounts)
    typer.echo(
        f"created key {key.id} ({key.role.value}, {scope}) for {key.user}; it is shown only once:",
        err=True,
    )
    typer.echo(plaintext)


@app.command("list")
def list_() -> None:
    """List keys (never their secrets)."""
    from optimizer.usecases.keys import list_keys

    for key in list_keys(open_store(), operator()):
        scope = "*" if key.accounts is None else ",".join(key.accounts)
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(
            f"{key.id}\t{key.prefix}\t{key.role.value}\t{scope}\t{state}\t{key.label}\t{key.user}"
        )


@app.command("revoke")
def revoke(
    key_id: int = typer.Argument(..., help="The key's id (from `ppcopt keys list`)."),
) -> None:
    """Revoke a key; it fails from its next request on."""
    from optimizer.usecases.keys import revoke_key

    revoke_key(open_store(), operator(), key_id)
    typer.echo(f"revoked key {key_id}")
