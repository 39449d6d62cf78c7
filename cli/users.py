"""`ppcopt users ...`: the people behind keys, sign-ins and `--as` (the local operator acts as
admin)."""

from __future__ import annotations

import typer

from cli._common import open_store
from cli.keys import operator
from optimizer.access import parse_role

__all__ = ["app"]

app = typer.Typer(help="Add and list users (people, each with one role).", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The person's name (one spelling: case and width fold)."),
    role: str = typer.Option(..., "--role", help="manager|finance|script|admin"),
    email: str | None = typer.Option(
        None, "--email", help="The address their identity provider verifies (dashboard sign-in)."
    ),
) -> None:
    """Add a user; their keys (`ppcopt keys create --user NAME`) get their role."""
    from optimizer.usecases.users import add_user

    user = add_user(open_store(), operator(), name, parse_role(role), email=email)
    typer.echo(f"added user {user.id}: {user.name} ({user.role.value})")


@app.command("list")
def list_() -> None:
    """List users: id, name, role, email, who added them."""
    from optimizer.usecases.users import list_users

    for user in list_users(open_store(), operator()):
        typer.echo(
            f"{user.id}\t{user.name}\t{user.role.value}\t{user.email or ''}\t{user.created_by}"
        )
