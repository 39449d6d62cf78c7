"""`ppcopt ingest FILE --account NAME`: validate a performance export and store it."""

from __future__ import annotations

from pathlib import Path

import typer

from cli._common import echo_issues, open_store
from optimizer.errors import InvalidInputError

__all__ = ["ingest_command"]


def ingest_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    account: str = typer.Option(..., "--account", help="Account to store the rows in."),
    format: str | None = typer.Option(
        None, "--format", help="Force a format: canonical, google_ads, microsoft_ads."
    ),
    partial: bool = typer.Option(
        False, "--partial", help="Store the valid rows and report the rejected ones."
    ),
    decimal_comma: bool | None = typer.Option(
        None,
        "--decimal-comma/--decimal-point",
        help="How the file writes decimals (default: detect where unambiguous).",
    ),
) -> None:
    """Ingest a Google Ads, Microsoft Ads or canonical CSV export into an account."""
    from optimizer.usecases.ingest import ingest

    engine = open_store()
    try:
        report = ingest(
            engine,
            account,
            file,
            source_name=file.name,
            format=format,
            partial=partial,
            decimal_comma=decimal_comma,
        )
    except InvalidInputError as error:
        echo_issues("rejected rows", error.issues, err=True)
        raise
    typer.echo(report.summary())
    echo_issues("rejected rows", report.errors)
    echo_issues("warnings", report.warnings)
