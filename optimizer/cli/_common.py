"""Shared plumbing for CLI commands: the store they open and how reports are printed."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from sqlalchemy.engine import Engine

from optimizer.errors import RowIssue

__all__ = ["echo_issues", "open_store"]

_MAX_ISSUES_SHOWN = 50


def open_store() -> Engine:
    """The configured store, migrated to the current schema (idempotent, cheap when current)."""
    from optimizer.store.engine import make_engine, upgrade

    engine = make_engine()
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
