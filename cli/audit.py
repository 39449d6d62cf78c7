"""`ppcopt audit ...`: check the audit log's hash chain."""

from __future__ import annotations

import typer

from cli._common import open_store

__all__ = ["app"]

app = typer.Typer(help="Check the audit log.", no_args_is_help=True)

EXIT_BROKEN_CHAIN = 2


@app.command("verify")
def verify() -> None:
    """Recompute every row's hash, oldest first; exit 2 naming the first row that was edited or
    follows a deleted one, 0 when the chain is whole."""
    from optimizer.usecases.audit import verify_audit

    check = verify_audit(open_store())
    if check.intact:
        typer.echo(f"audit log intact: {check.rows} rows chained")
        return
    typer.echo(
        f"audit log broken at row {check.bad_id} ({check.rows} rows checked): that row "
        f"{check.reason}",
        err=True,
    )
    raise typer.Exit(EXIT_BROKEN_CHAIN)
