"""`ppcopt optimize` and `ppcopt frontier`: tomorrow's split, or what each budget would buy."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer

from cli._common import (
    DECIMAL_MARK,
    account_decimal_comma,
    open_store,
    read_history_file,
)
from optimizer.errors import InvalidInputError

if TYPE_CHECKING:
    from optimizer.models import CurveSet
    from optimizer.planning import DayPlan
    from optimizer.solver import AllocationRequest

__all__ = ["frontier_command", "optimize_command"]

_ACCOUNT = typer.Option(None, "--account", help="A stored account (uses its latest curves).")
_DATA = typer.Option(
    None, "--data", exists=True, dir_okay=False, help="A history file: fit and optimise, no store."
)
_DATE = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="Day to plan (default tomorrow).")
_OBJECTIVE = typer.Option("conversions", "--objective", help="conversions|value|profit|min-cost")
_MAX_CHANGE = typer.Option(None, "--max-change", help="Largest move vs current spend, e.g. 0.3.")
_GROUP = typer.Option(
    None, "--group", help="NAME=PATTERN:MAX (MAX like 30% or 1500; '>=' for a floor). Repeatable."
)
_CURRENCY = typer.Option("EUR", "--currency", help="Currency of a --data file.")


@dataclass(frozen=True)
class _Source:
    account: str | None
    data: Path | None


def optimize_command(
    account: str | None = _ACCOUNT,
    data: Path | None = _DATA,
    budget: str | None = typer.Option(None, "--budget", help="Total daily budget."),
    monthly_cap: str | None = typer.Option(
        None, "--monthly-cap", help="Monthly cap: tomorrow's budget is paced from it."
    ),
    date: dt.datetime | None = _DATE,
    objective: str = _OBJECTIVE,
    margin: float | None = typer.Option(None, "--margin", help="Profit margin for 'profit'."),
    conversions_target: float | None = typer.Option(
        None, "--conversions-target", help="Conversions to reach for 'min-cost'."
    ),
    max_change: float | None = _MAX_CHANGE,
    group: list[str] | None = _GROUP,
    target_cpa: str | None = typer.Option(
        None, "--target-cpa", help="Largest average cost per conversion."
    ),
    target_roas: float | None = typer.Option(None, "--target-roas"),
    conservative: bool = typer.Option(
        False, "--conservative", help="Optimise the 10% band curve instead of the fitted curve."
    ),
    level: str = typer.Option("keyword", "--level", help="keyword|campaign"),
    out: Path | None = typer.Option(None, "--out", help="Write the table here."),
    format: str = typer.Option("csv", "--format", help="csv|json"),
    currency: str = _CURRENCY,
    decimal_comma: bool | None = DECIMAL_MARK,
) -> None:
    """Recommend tomorrow's spend per campaign and keyword under a budget or a monthly cap."""
    from optimizer.money import parse_amount
    from optimizer.report import parse_level, recommendation_table

    source = _source(account, data)
    decimal_comma = _decimal_comma(source, decimal_comma)
    if (budget is None) == (monthly_cap is None) and objective.replace("-", "_") != "min_cost":
        raise InvalidInputError("give exactly one of --budget AMOUNT or --monthly-cap AMOUNT")
    if format not in ("csv", "json"):
        raise InvalidInputError(f"--format is csv or json, not '{format}'")
    request = _request(
        currency,
        budget=budget,
        objective=objective,
        margin=margin,
        conversions_target=conversions_target,
        max_change=max_change,
        groups=group or [],
        target_cpa=target_cpa,
        target_roas=target_roas,
        conservative=conservative,
        decimal_comma=decimal_comma,
    )
    cap_micros = (
        parse_amount(monthly_cap, field="--monthly-cap", decimal_comma=decimal_comma)
        if monthly_cap is not None
        else None
    )
    day_plan = _plan(source, request, date.date() if date else None, cap_micros)
    table = recommendation_table(
        day_plan.allocation, day_plan.day, parse_level(level), band_scale=day_plan.band_scale
    )
    _emit_summary(day_plan)
    _emit_table(table, out, format)


def frontier_command(
    account: str | None = _ACCOUNT,
    data: Path | None = _DATA,
    budgets: str | None = typer.Option(
        None,
        "--budgets",
        help="Totals separated by commas, or by ';' with a decimal comma (default 50%..200% of "
        "current).",
    ),
    date: dt.datetime | None = _DATE,
    objective: str = _OBJECTIVE,
    max_change: float | None = _MAX_CHANGE,
    group: list[str] | None = _GROUP,
    out: Path | None = typer.Option(None, "--out", help="Write the table (CSV) here."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of the frontier here."),
    currency: str = _CURRENCY,
    decimal_comma: bool | None = DECIMAL_MARK,
) -> None:
    """Expected conversions, value and CPA for a range of total daily budgets."""
    from optimizer.planning import plan_frontier
    from optimizer.requests import parse_amount_list

    source = _source(account, data)
    decimal_comma = _decimal_comma(source, decimal_comma)
    request = _request(
        currency,
        objective=objective,
        max_change=max_change,
        groups=group or [],
        decimal_comma=decimal_comma,
    )
    points = (
        parse_amount_list(budgets, field="--budgets", decimal_comma=decimal_comma)
        if budgets is not None
        else None
    )
    if source.account is not None:
        from optimizer.usecases.optimize import frontier

        day = date.date() if date else None
        result = frontier(open_store(), source.account, request, day=day, budgets_micros=points)
    else:
        assert source.data is not None
        curve_set, history_end = _fit_file(source.data)
        day = date.date() if date else history_end + dt.timedelta(days=1)
        result = plan_frontier(curve_set, request, day, points)
    text = result.points.to_csv(index=False, float_format="%.4f", lineterminator="\n")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(result.points)} budget points to {out}")
    else:
        typer.echo(text, nl=False)
    if plot is not None:
        from optimizer.plots import frontier_figure, save_figure

        save_figure(frontier_figure(result), plot)
        typer.echo(f"wrote the frontier plot to {plot}")


def _source(account: str | None, data: Path | None) -> _Source:
    if (account is None) == (data is None):
        raise InvalidInputError("give exactly one of --account NAME or --data FILE")
    return _Source(account, data)


def _decimal_comma(source: _Source, given: bool | None) -> bool | None:
    if source.account is None:
        return given
    return account_decimal_comma(open_store(), source.account, given)


def _request(currency: str, **options: Any) -> AllocationRequest:
    from optimizer.requests import build_request

    return build_request(currency, budget_field="--budget", **options)


def _plan(
    source: _Source, request: AllocationRequest, day: dt.date | None, cap_micros: int | None
) -> DayPlan:
    if source.account is not None:
        from optimizer.usecases.optimize import plan

        return plan(
            open_store(), source.account, request, day=day, monthly_cap_micros=cap_micros
        ).plan
    from optimizer.planning import month_to_date_micros, plan_day

    assert source.data is not None
    history = read_history_file(source.data)
    curve_set, history_end = _fit_frame(history)
    target = day if day is not None else history_end + dt.timedelta(days=1)
    return plan_day(
        curve_set,
        request,
        target,
        monthly_cap_micros=cap_micros,
        month_to_date_micros=month_to_date_micros(history, target),
    )


def _fit_file(path: Path) -> tuple[CurveSet, dt.date]:
    return _fit_frame(read_history_file(path))


def _fit_frame(history: pd.DataFrame) -> tuple[CurveSet, dt.date]:
    from optimizer.models import fit_account

    curve_set = fit_account(history, n_jobs=-1)
    return curve_set, curve_set.window_end


def _emit_summary(day_plan: DayPlan) -> None:
    from optimizer.money import format_money
    from optimizer.report import likely_total
    from optimizer.schema import MICROS

    allocation = day_plan.allocation
    currency = allocation.currency
    if day_plan.pacing is not None:
        typer.echo(f"pacing: {day_plan.pacing.explanation}", err=True)
    elif day_plan.basis:
        typer.echo(f"budget: {day_plan.basis}", err=True)
    budget = (
        format_money(allocation.budget_micros, currency)
        if allocation.budget_micros is not None
        else "no cap"
    )
    current = format_money(round(allocation.current_total * MICROS), currency)
    value = format_money(round(allocation.expected_value * MICROS), currency)
    cpa = allocation.average_cpa
    cpa_text = format_money(round(cpa * MICROS), currency) if math.isfinite(cpa) else "n/a"
    likely_low, likely_high = likely_total(allocation, day_plan.band_scale)
    typer.echo(
        f"{day_plan.day}: {format_money(allocation.total_micros, currency)} of {budget} "
        f"(current {current}) -> "
        f"{allocation.expected_conversions:,.2f} conversions "
        f"[{allocation.conversions_low:,.2f}-{allocation.conversions_high:,.2f}; "
        f"likely {likely_low:,.0f}-{likely_high:,.0f}], "
        f"value {value}, CPA {cpa_text}; "
        f"{allocation.shadow_price_text()}",
        err=True,
    )
    for relaxation in allocation.relaxations:
        typer.echo(f"relaxed: {relaxation.text}", err=True)


def _emit_table(table: pd.DataFrame, out: Path | None, format: str) -> None:
    from optimizer.report import to_safe_csv

    if format == "json":
        text = json.dumps(json.loads(table.to_json(orient="records")), ensure_ascii=False, indent=1)
    else:
        text = to_safe_csv(table)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(table):,} rows to {out}", err=True)
