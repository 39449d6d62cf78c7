"""`ppcopt policy ...`: the account's standing plan policy, used by publish, the nightly job and
the what-if alike (see `optimizer.usecases.policy`)."""

from __future__ import annotations

import json

import typer

from cli._common import DECIMAL_MARK, open_store
from cli.keys import operator
from optimizer.access import Role

__all__ = ["app"]

app = typer.Typer(help="Show and set an account's standing plan policy.", no_args_is_help=True)

_AS = typer.Option(None, "--as", help="Who is acting (default: your user name).")


@app.command("show")
def show(account: str = typer.Argument(...), actor: str | None = _AS) -> None:
    """Print the policy in force (version 0 is the default: +30% a day up, no limit down)."""
    from optimizer.usecases.policy import get_policy

    stored = get_policy(open_store(), operator(actor, Role.MANAGER), account)
    shown = {"account": stored.account, "version": stored.version, **stored.policy.as_json()}
    shown["created_by"] = stored.created_by
    shown["created_at"] = None if stored.created_at is None else stored.created_at.isoformat()
    typer.echo(json.dumps(shown, indent=1, ensure_ascii=False))


@app.command("set")
def set_(
    account: str = typer.Argument(...),
    objective: str = typer.Option("conversions", "--objective"),
    margin: float | None = typer.Option(None, "--margin"),
    max_change: float | None = typer.Option(
        None, "--max-change", help="Largest move either way per day, e.g. 0.2 for 20%."
    ),
    max_increase: float | None = typer.Option(
        None, "--max-increase", help="Largest move up per day (default 0.3, i.e. +30%)."
    ),
    no_increase_limit: bool = typer.Option(
        False, "--no-increase-limit", help="Let budgets rise without a daily limit."
    ),
    max_decrease: float | None = typer.Option(None, "--max-decrease"),
    group: list[str] = typer.Option([], "--group", help="NAME=GLOB:MAX[:MIN], repeatable."),
    target_cpa: str | None = typer.Option(None, "--target-cpa"),
    target_roas: float | None = typer.Option(None, "--target-roas"),
    lock: list[str] = typer.Option([], "--lock", help="A campaign kept at current spend."),
    allow_new: bool = typer.Option(False, "--allow-new"),
    conservative: bool = typer.Option(False, "--conservative"),
    exploration: float = typer.Option(
        0.0,
        "--exploration",
        help="Share of each day's budget for spend tests where the curves are unsure "
        "(e.g. 0.03; 0 turns them off).",
    ),
    decimal_comma: bool | None = DECIMAL_MARK,
    actor: str | None = _AS,
) -> None:
    """Replace the policy with these limits (options not given take their defaults)."""
    from optimizer.usecases.accounts import get_account
    from optimizer.usecases.policy import DEFAULT_MAX_INCREASE, PlanPolicy, set_policy

    engine = open_store()
    policy = PlanPolicy(
        objective=objective,
        margin=margin,
        max_change=max_change,
        max_increase=None
        if no_increase_limit
        else (DEFAULT_MAX_INCREASE if max_increase is None else max_increase),
        max_decrease=max_decrease,
        groups=tuple(group),
        target_cpa=target_cpa,
        target_roas=target_roas,
        locked_campaigns=tuple(lock),
        allow_new=allow_new,
        conservative=conservative,
        exploration_share=exploration,
        decimal_comma=get_account(engine, account).decimal_comma(decimal_comma),
    )
    stored = set_policy(engine, operator(actor, Role.MANAGER), account, policy)
    typer.echo(f"policy v{stored.version} of {stored.account} set by {stored.created_by}")
