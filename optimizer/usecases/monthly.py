"""The month's report for finance and the employer, gathered from the store (rendered by
`optimizer.monthly_report`): spend against each approved cap with the plan's path, conversions and
CPA / ROAS against plan and the month before, what the plans said, the ledger's accuracy, and the
largest opportunities the curves see."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import OptimizerError
from optimizer.models import CurveSet
from optimizer.monthly_report import (
    CapLine,
    MarginalLine,
    MonthFigures,
    MonthReport,
    Opportunity,
    parse_period,
)
from optimizer.schema import MICROS, to_model_frame
from optimizer.solver.curves import EntityCurves
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import transaction
from optimizer.store.performance import select_stored
from optimizer.store.tables import caps, recommendations
from optimizer.usecases.accounts import find_account
from optimizer.usecases.accuracy import ledger_accuracy

__all__ = ["month_report"]

_OPPORTUNITIES = 3
_STEP = 0.10


def month_report(
    engine: Engine, principal: Principal, account_name: str, period: str
) -> MonthReport:
    """Everything the month's report shows for `period` ('2026-11')."""
    require(principal, Action.CURVES_READ)
    first, last = parse_period(period)
    before_first = (first - dt.timedelta(days=1)).replace(day=1)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
        require_account(principal, account.id, account.name)
        stored = select_stored(connection, account.id, before_first, last)
        history = to_model_frame(stored) if not stored.empty else None
        planned = connection.execute(
            select(recommendations.c.date, recommendations.c.total_micros, recommendations.c.notes)
            .where(
                recommendations.c.id.in_(
                    select(func.max(recommendations.c.id))
                    .where(
                        recommendations.c.account_id == account.id,
                        recommendations.c.date >= first,
                        recommendations.c.date <= last,
                    )
                    .group_by(recommendations.c.date)
                )
            )
            .order_by(recommendations.c.date)
        ).all()
        cap_rows = connection.execute(
            select(caps.c.id, caps.c.period_start, caps.c.period_end, caps.c.amount_micros).where(
                caps.c.account_id == account.id,
                caps.c.status == "approved",
                caps.c.period_start <= last,
                caps.c.period_end >= first,
            )
        ).all()
        try:
            curve_set = load_curve_set(connection, account.id).curve_set
        except OptimizerError:
            curve_set = None
    daily = _daily(history, first, last, planned)
    this_month = _figures(daily)
    previous = _figures(_daily(history, before_first, first - dt.timedelta(days=1), []))
    spent_in = {
        int(r.id): _spend_between(history, max(r.period_start, first), min(r.period_end, last))
        for r in cap_rows
    }
    cap_lines = tuple(
        CapLine(int(r.id), r.period_start, r.period_end, int(r.amount_micros), spent_in[int(r.id)])
        for r in cap_rows
    )
    notes = tuple(
        (r.date, note["text"])
        for r in planned
        for note in json.loads(r.notes)
        if note["kind"] in ("relaxed", "cap_reached", "stale_data")
    )
    marginal = tuple(
        _marginal(r.date, int(r.total_micros), note)
        for r in planned
        for note in json.loads(r.notes)
        if note["kind"] == "marginal" and "shadow_price" in note
    )
    try:
        accuracy = ledger_accuracy(engine, principal, account.name, since=first, until=last)
    except OptimizerError:
        accuracy = None
    opportunities = _opportunities(curve_set, last + dt.timedelta(days=1)) if curve_set else ()
    return MonthReport(
        account=account.name,
        currency=account.currency,
        locale=account.locale,
        first=first,
        last=last,
        daily=daily,
        figures=this_month,
        previous=previous,
        caps=cap_lines,
        notes=notes,
        accuracy=None if accuracy is None else accuracy.accuracy,
        opportunities=opportunities,
        marginal=marginal,
    )


def _marginal(day: dt.date, total_micros: int, note: dict[str, str]) -> MarginalLine:
    binding = tuple(
        (name, int(count))
        for name, _, count in (part.rpartition(":") for part in note.get("binding", "").split(","))
        if name
    )
    return MarginalLine(
        day,
        total_micros,
        note.get("objective", "conversions"),
        float(note["shadow_price"]),
        binding,
    )


def _daily(
    history: pd.DataFrame | None, first: dt.date, last: dt.date, planned: Sequence[Any]
) -> pd.DataFrame:
    days = pd.date_range(first, last, freq="D").date
    frame = pd.DataFrame({"date": days})
    if history is not None and not history.empty:
        dates = pd.to_datetime(history["date"]).dt.date
        inside = history[(dates >= first) & (dates <= last)].assign(day=dates)
        sums = inside.groupby("day")[["spend", "conversions", "conversion_value"]].sum()
        frame = frame.join(sums, on="date")
    for column in ("spend", "conversions", "conversion_value"):
        if column not in frame:
            frame[column] = np.nan
    plan = {r.date: int(r.total_micros) / MICROS for r in planned}
    frame["planned_spend"] = [plan.get(d, np.nan) for d in days]
    return frame


def _figures(daily: pd.DataFrame) -> MonthFigures:
    spend = float(np.nansum(daily["spend"]))
    conversions = float(np.nansum(daily["conversions"]))
    value = float(np.nansum(daily["conversion_value"]))
    reported = int(daily["spend"].notna().sum())
    return MonthFigures(spend, conversions, value, reported, len(daily))


def _spend_between(history: pd.DataFrame | None, first: dt.date, last: dt.date) -> int:
    if history is None or history.empty:
        return 0
    dates = pd.to_datetime(history["date"]).dt.date
    spend = history.loc[(dates >= first) & (dates <= last), "spend"].to_numpy(dtype=np.float64)
    return int(np.round(spend * MICROS).sum())


def _opportunities(curve_set: CurveSet, day: dt.date) -> tuple[Opportunity, ...]:
    """Campaigns where 10% more spend buys the most conversions per unit, at current spend."""
    if len(curve_set) == 0:
        return ()
    table = curve_set.table(day)
    curves = EntityCurves.from_table(table)
    current = table["current_spend"].to_numpy(dtype=np.float64)
    more = np.minimum(current * (1 + _STEP), table["trust_high"].to_numpy(dtype=np.float64))
    gained = curves.value(more) - curves.value(current)
    frame = pd.DataFrame(
        {"campaign": table["campaign"], "extra": more - current, "gained": gained, "spend": current}
    )
    frame["conversions"] = curves.value(current)
    per = frame.groupby("campaign").sum(numeric_only=True)
    per = per[(per["extra"] > 0) & (per["gained"] > 0)]
    if per.empty:
        return ()
    average = per["spend"].sum() / max(per["conversions"].sum(), 1e-12)
    per = per.assign(marginal=per["extra"] / per["gained"]).sort_values("marginal")
    return tuple(
        Opportunity(str(name), float(row.extra), float(row.gained), float(row.marginal), average)
        for name, row in per.head(_OPPORTUNITIES).iterrows()
    )
