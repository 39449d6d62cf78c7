"""`ppcopt events ...`: an account's promotions, outages and excluded days.

`--as NAME` names the person acting (audit: `cli:NAME`). The fit proposes events for runs of days
it cannot explain; `confirm` makes one count, `dismiss` keeps it from counting (or coming back).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from cli._common import open_store
from cli.keys import operator
from optimizer.access import Role

if TYPE_CHECKING:
    from optimizer.usecases.events import StoredEvent

__all__ = ["app"]

app = typer.Typer(
    help="Mark promotions, outages and days to leave out of the fit.", no_args_is_help=True
)

_AS = typer.Option(None, "--as", help="Who is acting (default: your user name).")
_DAY = ["%Y-%m-%d"]


def _line(event: StoredEvent) -> str:
    return (
        f"{event.id}\t{event.start}..{event.end}\t{event.kind}\t{event.status}\t"
        f"{event.created_by}\t{event.note}"
        + ("" if event.lift is None else f"\tlift {event.lift:g}")
    )


@app.command("add")
def add(
    account: str = typer.Argument(...),
    start: dt.datetime = typer.Option(..., "--start", formats=_DAY),
    end: dt.datetime = typer.Option(..., "--end", formats=_DAY),
    kind: str = typer.Option(..., "--kind", help="promo | outage | exclude"),
    note: str = typer.Option("", "--note"),
    lift: float | None = typer.Option(
        None,
        "--lift",
        help="promo only: expected conversions per unit of spend against an ordinary day "
        "(1.4 = 40% more); the cap's period plan weighs these days by it",
    ),
    actor: str | None = _AS,
) -> None:
    """Add an event: outage and exclude days are left out of the fit, promo days get their own
    factor (so neither bends the curves nor the trend); a promo's --lift moves planned money
    toward its days."""
    from optimizer.usecases.events import add_event

    event = add_event(
        open_store(),
        operator(actor, Role.MANAGER),
        account,
        start=start.date(),
        end=end.date(),
        kind=kind,
        note=note,
        lift=lift,
    )
    typer.echo(f"added event {event.id}: {event.kind} {event.start}..{event.end}; refit to use it")


@app.command("list")
def list_(
    account: str = typer.Argument(...),
    status: str | None = typer.Option(None, "--status", help="confirmed | proposed | dismissed"),
) -> None:
    """The account's events by first day: id, days, kind, status, who added it, note."""
    from optimizer.usecases.events import list_events

    events = list_events(open_store(), operator(role=Role.MANAGER), account, status=status)
    for event in events:
        typer.echo(_line(event))
    if not events:
        typer.echo("no events")


@app.command("remove")
def remove(
    account: str = typer.Argument(...),
    event_id: int = typer.Argument(...),
    actor: str | None = _AS,
) -> None:
    """Delete an event (its days count as ordinary again at the next fit)."""
    from optimizer.usecases.events import remove_event

    event = remove_event(open_store(), operator(actor, Role.MANAGER), account, event_id)
    typer.echo(f"removed event {event.id} ({event.kind} {event.start}..{event.end})")


def _decide(account: str, event_id: int, confirm: bool, actor: str | None) -> None:
    from optimizer.usecases.events import decide_event

    event = decide_event(
        open_store(), operator(actor, Role.MANAGER), account, event_id, confirm=confirm
    )
    typer.echo(f"event {event.id} {event.status} ({event.kind} {event.start}..{event.end})")


@app.command("confirm")
def confirm(
    account: str = typer.Argument(...),
    event_id: int = typer.Argument(...),
    actor: str | None = _AS,
) -> None:
    """Confirm an event the fit proposed: the next fit uses it."""
    _decide(account, event_id, True, actor)


@app.command("dismiss")
def dismiss(
    account: str = typer.Argument(...),
    event_id: int = typer.Argument(...),
    actor: str | None = _AS,
) -> None:
    """Dismiss an event the fit proposed: it is kept, unused, and not proposed again."""
    _decide(account, event_id, False, actor)
