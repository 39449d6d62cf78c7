"""`ppcopt report`: the month's report for finance and the employer, as HTML and, printed by
Chromium, as PDF."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import typer

from cli._common import open_store
from cli.keys import operator
from optimizer.access import Role
from optimizer.errors import InvalidInputError

__all__ = ["print_pdf", "report_command"]

_CHROMIUM = "/usr/bin/chromium"
_PRINT_SECONDS = 120


def report_command(
    account: str = typer.Option(..., "--account"),
    period: str = typer.Option(..., "--period", help="The month, e.g. 2026-11."),
    lang: str | None = typer.Option(
        None, "--lang", help="en or fa (default: the account's locale's language, else en)."
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the HTML."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Also print it to this PDF (Chromium)."),
    calendar: str = typer.Option(
        "gregorian", "--calendar", help="gregorian or jalali (Persian solar) dates."
    ),
    actor: str | None = typer.Option(None, "--as", help="Who is asking."),
) -> None:
    """Write the month's report: spend against each cap, results against the month before, what
    the plans said, forecast accuracy and the largest opportunities."""
    from optimizer.monthly_report import render_html, report_language
    from optimizer.usecases.monthly import month_report

    report = month_report(open_store(), operator(actor, Role.FINANCE), account, period)
    page = render_html(report, report_language(report.locale, lang), calendar)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)
    if pdf is not None:
        print_pdf(out, pdf)
        typer.echo(f"wrote {pdf}", err=True)


def print_pdf(html: Path, pdf: Path) -> None:
    """Print an HTML file to PDF with headless Chromium (`PPCOPT_CHROMIUM`, default
    /usr/bin/chromium); a missing browser or a failed print is an input error naming it."""
    chromium = os.environ.get("PPCOPT_CHROMIUM", _CHROMIUM)
    if not Path(chromium).exists():
        raise InvalidInputError(f"printing a PDF needs Chromium at {chromium} (PPCOPT_CHROMIUM)")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf.resolve()}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=_PRINT_SECONDS,
            check=False,
        )
    if done.returncode != 0 or not pdf.exists():
        raise InvalidInputError(f"Chromium could not print {html.name}: {done.stderr[-500:]}")
