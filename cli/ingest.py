"""`ppcopt ingest FILE --account NAME`: validate a performance export and store it."""

from __future__ import annotations

from pathlib import Path

import typer

from cli._common import echo_issues, open_store
from optimizer.errors import InvalidInputError
from optimizer.io.dates import DateOrder

__all__ = ["ingest_command"]


def ingest_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    account: str | None = typer.Option(
        None, "--account", help="Account to store the rows in (or --split-accounts)."
    ),
    split_accounts: bool = typer.Option(
        False,
        "--split-accounts",
        help="A manager (MCC) report: store each row in the account its customer ID is linked "
        "to (`ppcopt accounts link`) or its account column names.",
    ),
    format: str | None = typer.Option(
        None,
        "--format",
        help="Force a format: canonical, google_ads, google_ads_api, microsoft_ads.",
    ),
    partial: bool = typer.Option(
        False, "--partial", help="Store the valid rows and report the rejected ones."
    ),
    decimal_comma: bool | None = typer.Option(
        None,
        "--decimal-comma/--decimal-point",
        help="How the file writes decimals (default: detect, else the export's language).",
    ),
    date_order: str | None = typer.Option(
        None,
        "--date-order",
        help="DMY or MDY for dates like 03/11/2025 (default: what the file proves, else the "
        "account's locale; refused when neither says).",
    ),
    sum_segments: bool = typer.Option(
        False,
        "--sum-segments",
        help="Add up a report segmented by device, network, hour, ... per keyword and day.",
    ),
) -> None:
    """Ingest a Google Ads, Microsoft Ads or canonical CSV export into an account."""
    from optimizer.usecases.ingest import ingest, ingest_accounts

    if (account is None) == (not split_accounts):
        raise InvalidInputError("give --account NAME or --split-accounts, not both or neither")
    order = _date_order(date_order)
    engine = open_store()
    try:
        if split_accounts:
            reports = ingest_accounts(
                engine,
                file,
                source_name=file.name,
                format=format,
                partial=partial,
                decimal_comma=decimal_comma,
                date_order=order,
                sum_segments=sum_segments,
            )
        else:
            reports = [
                ingest(
                    engine,
                    str(account),
                    file,
                    source_name=file.name,
                    format=format,
                    partial=partial,
                    decimal_comma=decimal_comma,
                    date_order=order,
                    sum_segments=sum_segments,
                )
            ]
    except InvalidInputError as error:
        echo_issues("rejected rows", error.issues, err=True)
        raise
    for report in reports:
        prefix = f"{report.account}: " if split_accounts else ""
        typer.echo(prefix + report.summary())
        for note in report.notes:
            typer.echo(f"  {note}")
    echo_issues("rejected rows", reports[0].errors)
    echo_issues("warnings", reports[0].warnings)


def _date_order(text: str | None) -> DateOrder | None:
    if text is None:
        return None
    order = text.strip().upper()
    if order == "DMY":
        return "DMY"
    if order == "MDY":
        return "MDY"
    raise InvalidInputError(f"--date-order is DMY or MDY, not '{text}'")
