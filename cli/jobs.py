"""`ppcopt jobs list|run`: the record of nightly runs, and a run of one account right now."""

from __future__ import annotations

import typer

from cli._common import open_store

__all__ = ["app"]

app = typer.Typer(help="Nightly job runs: list them, or run one account now.", no_args_is_help=True)

_COLUMNS = ("id", "account", "trigger", "run_key", "started_at", "status", "rows", "refit", "rec")


@app.command("list")
def list_(
    account: str | None = typer.Option(None, "--account", help="Only this account's runs."),
    limit: int = typer.Option(50, "--limit", help="How many runs, newest first."),
) -> None:
    """List recorded runs, newest first, with the error of failed ones."""
    from optimizer.access import system_principal
    from optimizer.usecases.nightly import list_runs

    runs = list_runs(open_store(), system_principal("cli"), account_name=account, limit=limit)
    typer.echo("\t".join(_COLUMNS))
    for run in runs:
        rec = "" if run.recommendation_id is None else str(run.recommendation_id)
        started = run.started_at.isoformat(timespec="seconds")
        line = [str(run.id), run.account, run.trigger, run.run_key, started, run.status]
        typer.echo(
            "\t".join([*line, str(run.rows_ingested), "yes" if run.curves_refit else "no", rec])
        )
        if run.error:
            typer.echo(f"\t{run.error}")


@app.command("run")
def run(account: str = typer.Argument(..., help="The account to run now.")) -> None:
    """Run the account's nightly pipeline now (inbox, refit if changed, publish tomorrow)."""
    from optimizer.access import system_principal
    from optimizer.usecases.nightly import run_nightly

    outcome = run_nightly(open_store(), system_principal("cli"), account, trigger="manual")
    typer.echo(
        f"run {outcome.id} of '{outcome.account}' {outcome.status}: "
        f"{outcome.files_processed} file(s) ingested ({outcome.rows_ingested:,} rows), "
        f"{outcome.files_rejected} rejected, curves {'refit' if outcome.curves_refit else 'kept'}"
        + (
            f", recommendation {outcome.recommendation_id} published"
            if outcome.recommendation_id is not None
            else ""
        )
    )
    if outcome.status != "succeeded":
        typer.echo(f"error: {outcome.error}", err=True)
        raise typer.Exit(1)
