"""Shared plumbing for CLI commands: the store they open and how reports are printed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import typer
from sqlalchemy.engine import Engine

from optimizer.errors import InvalidInputError, RowIssue

__all__ = [
    "DECIMAL_MARK",
    "account_decimal_comma",
    "echo_issues",
    "open_store",
    "read_history_file",
]

_MAX_ISSUES_SHOWN = 50

DECIMAL_MARK = typer.Option(
    None,
    "--decimal-comma/--decimal-point",
    help="How amounts typed here are written: 1.234,50 or 1,234.50 (default: the account's "
    "locale; text that reads both ways, such as 5.000, is refused until one is said).",
)


def account_decimal_comma(engine: Engine, account: str, given: bool | None) -> bool | None:
    """The decimal mark of typed amounts: the flag when given, else the account's locale."""
    if given is not None:
        return given
    from optimizer.usecases.accounts import get_account

    return get_account(engine, account).decimal_comma()


def open_store() -> Engine:
    """The configured store, migrated to the current schema (idempotent, cheap when current)."""
    from optimizer.settings import get_settings
    from optimizer.store.engine import make_engine, upgrade

    engine = make_engine(schema=get_settings().database_schema)
    upgrade(engine)
    return engine


def echo_issues(title: str, issues: Sequence[RowIssue], *, err: bool = False) -> None:
    if not issues:
        return
    typer.echo(f"{title} ({len(issues):,}):", err=err)
    for issue in issues[:_MAX_ISSUES_SHOWN]:
        typer.echo(f"  {issue.describe()}", err=err)
    if len(issues) > _MAX_ISSUES_SHOWN:
        typer.echo(f"  ... and {len(issues) - _MAX_ISSUES_SHOWN:,} more", err=err)


def read_history_file(path: Path) -> pd.DataFrame:
    """A history file in model shape for the store-less `--data` paths; row errors reject it."""
    from optimizer.io import read_performance
    from optimizer.schema import to_model_frame

    result = read_performance(path)
    if result.errors:
        raise InvalidInputError(
            f"{path.name}: {len(result.errors):,} rows have errors; fix them first",
            result.errors,
        )
    return to_model_frame(result.frame)
