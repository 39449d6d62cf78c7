"""`ppcopt caps ...` and `ppcopt publish`: the finance flow for a local operator.

`--as NAME` names the user acting (default: your login name), who must exist (`ppcopt users
add`) and acts with their own role; the four-eyes rule compares users, so `--as Maria` cannot
approve what `--as maria` proposed.
"""

from __future__ import annotations

import datetime as dt

import typer

from cli._common import DECIMAL_MARK, open_store
from cli.keys import operator, person
from optimizer.access import Role

__all__ = ["app", "publish_command"]

app = typer.Typer(help="Propose, approve, reject and list spend caps.", no_args_is_help=True)

_AS = typer.Option(
    None, "--as", help="The user acting (default: your login name); `ppcopt users list`."
)


@app.command("propose")
def propose(
    account: str = typer.Argument(...),
    start: dt.datetime = typer.Option(..., "--start", formats=["%Y-%m-%d"]),
    end: dt.datetime = typer.Option(..., "--end", formats=["%Y-%m-%d"]),
    amount: str = typer.Option(..., "--amount", help="Amount, e.g. 30000.00 or 30.000,00"),
    currency: str = typer.Option(..., "--currency"),
    note: str = typer.Option("", "--note"),
    actor: str | None = _AS,
    decimal_comma: bool | None = DECIMAL_MARK,
    replaces: int | None = typer.Option(
        None, "--replaces", help="An approved cap this one replaces once approved."
    ),
) -> None:
    """Propose a cap for a period (it binds nothing until approved; overlapping approved caps
    all apply and the tightest binds, unless this one replaces one of them)."""
    from optimizer.usecases.caps import propose_cap

    cap = propose_cap(
        open_store(),
        person(actor),
        account,
        period_start=start.date(),
        period_end=end.date(),
        amount=amount,
        currency=currency,
        note=note,
        decimal_comma=decimal_comma,
        replaces=replaces,
    )
    typer.echo(
        f"proposed cap {cap.id}: {cap.amount} {cap.currency} {start:%Y-%m-%d}..{end:%Y-%m-%d}"
    )
    _say_overlaps(cap.overlaps, cap.replaces)


def _say_overlaps(overlaps: tuple[int, ...], replaces: int | None) -> None:
    others = [str(i) for i in overlaps if i != replaces]
    if others:
        typer.echo(
            f"overlaps approved cap(s) {', '.join(others)}: all apply, the tightest binds",
            err=True,
        )


def _decide(cap_id: int, approve: bool, note: str, actor: str | None) -> None:
    from optimizer.usecases.caps import decide_cap

    cap = decide_cap(open_store(), person(actor), cap_id, approve=approve, note=note)
    typer.echo(f"cap {cap.id} {cap.status} by {cap.decided_by}")
    if cap.status == "approved":
        _say_overlaps(cap.overlaps, cap.replaces)


@app.command("approve")
def approve(
    cap_id: int = typer.Argument(...),
    note: str = typer.Option("", "--note"),
    actor: str | None = _AS,
) -> None:
    """Approve a proposed cap (as finance; not the proposer)."""
    _decide(cap_id, True, note, actor)


@app.command("reject")
def reject(
    cap_id: int = typer.Argument(...),
    note: str = typer.Option("", "--note"),
    actor: str | None = _AS,
) -> None:
    """Reject a proposed cap (as finance)."""
    _decide(cap_id, False, note, actor)


@app.command("list")
def list_(account: str = typer.Argument(...)) -> None:
    """The account's caps, newest first."""
    from optimizer.usecases.caps import list_caps

    for cap in list_caps(open_store(), operator(role=Role.FINANCE), account):
        typer.echo(
            f"{cap.id}\t{cap.period_start}..{cap.period_end}\t{cap.amount} {cap.currency}\t"
            f"{cap.status}\t{cap.proposed_by}\t{cap.decided_by or ''}"
        )


def publish_command(
    account: str = typer.Argument(...),
    date: dt.datetime | None = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="Day to plan (default: tomorrow, account time)."
    ),
    actor: str | None = _AS,
) -> None:
    """Publish the day's recommendation under the approved cap covering it."""
    from optimizer.money import format_money
    from optimizer.usecases.accounts import get_account
    from optimizer.usecases.optimize import tomorrow
    from optimizer.usecases.recommendations import publish

    engine = open_store()
    day = date.date() if date else tomorrow(get_account(engine, account))
    rec = publish(engine, operator(actor, Role.MANAGER), account, day)
    typer.echo(
        f"published recommendation {rec.id} for {rec.date}: "
        f"{format_money(rec.total_micros, rec.currency)} of a "
        f"{format_money(rec.budget_micros, rec.currency)} budget under cap {rec.cap.id}"
    )
    typer.echo(rec.pacing)
    for note in rec.notes:
        typer.echo(f"{note['kind']}: {note['text']}")
