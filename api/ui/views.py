"""What each dashboard page shows, gathered from the authorised use cases (no HTTP here).

Every read goes through a use case that checks the role and the key's accounts, so a page shows
exactly what the API would answer to the same key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup
from sqlalchemy import Engine

from api.ui.render import inline_svg, money
from optimizer.access import Action, Principal, can
from optimizer.errors import InvalidInputError, NotFoundError
from optimizer.models.curves import EntityCurve
from optimizer.monthly_report import render_html, report_language
from optimizer.plots import (
    accuracy_figure,
    curve_figure,
    frontier_figure,
    per_day,
    spend_bars_figure,
)
from optimizer.schema import MICROS, NAME_COLUMNS
from optimizer.solver import AllocationRequest
from optimizer.usecases import recommendations
from optimizer.usecases.accounts import Account
from optimizer.usecases.accuracy import LedgerAccuracy, ledger_accuracy
from optimizer.usecases.authorized import account_as, curves_as, frontier_as, history_as
from optimizer.usecases.caps import Cap, list_caps
from optimizer.usecases.events import StoredEvent, list_events
from optimizer.usecases.experiments import Experiment, list_experiments
from optimizer.usecases.monthly import month_report
from optimizer.usecases.nightly import JobRun, list_runs
from optimizer.usecases.optimize import tomorrow

__all__ = ["Overview", "curve_view", "diagnostics_text", "frontier_view", "overview"]


@dataclass(frozen=True, slots=True)
class Overview:
    account: Account
    day: dt.date
    governing_cap: Cap | None
    proposed_caps: int
    recommendation: recommendations.Recommendation | None
    campaigns: list[dict[str, Any]]
    current_total: str
    chart: Markup | None
    last_run: JobRun | None
    curves: list[EntityCurve] | None
    events: list[StoredEvent] | None = None


def _latest(
    engine: Engine, principal: Principal, name: str
) -> recommendations.Recommendation | None:
    try:
        return recommendations.latest(engine, principal, name)
    except NotFoundError:
        return None


def _curves(engine: Engine, principal: Principal, name: str) -> list[EntityCurve] | None:
    if not can(principal, Action.CURVES_READ):
        return None
    try:
        stored = curves_as(engine, principal, name)
    except NotFoundError:
        return None
    return sorted(stored.curve_set, key=lambda c: tuple(getattr(c.key, n) for n in NAME_COLUMNS))


def overview(engine: Engine, principal: Principal, name: str) -> Overview:
    """Cap status, the latest published plan by campaign, the last nightly run, the curves, the
    account's events (promotions, outages, the fit's proposals)."""
    account = account_as(engine, principal, name)
    day = tomorrow(account)
    caps = list_caps(engine, principal, account.name) if can(principal, Action.CAP_READ) else []
    covering = [c for c in caps if c.status == "approved" and c.covers(day)]
    governing = max(covering, key=lambda c: (c.decided_at or c.proposed_at, c.id), default=None)
    rec = _latest(engine, principal, account.name)
    rows, chart, current_micros = _campaigns(rec, account.currency)
    runs = (
        list_runs(engine, principal, account_name=account.name, limit=1)
        if can(principal, Action.JOBS_READ)
        else []
    )
    return Overview(
        account=account,
        day=day,
        governing_cap=governing,
        proposed_caps=sum(c.status == "proposed" for c in caps),
        recommendation=rec,
        campaigns=rows,
        current_total=money(current_micros, account.currency),
        chart=chart,
        last_run=runs[0] if runs else None,
        curves=_curves(engine, principal, account.name),
        events=(
            list_events(engine, principal, account.name)
            if can(principal, Action.EVENTS_READ)
            else None
        ),
    )


def _campaigns(
    rec: recommendations.Recommendation | None, currency: str
) -> tuple[list[dict[str, Any]], Markup | None, int]:
    """A published plan's campaign rows (money formatted), its bar chart and the current total."""
    if rec is None or not rec.payload["campaign"]:
        return [], None, 0
    payload = rec.payload["campaign"]
    current = [round(float(r["current_spend"] or 0.0) * MICROS) for r in payload]
    recommended = [int(r["micros"]) for r in payload]
    rows = [
        {
            "campaign": r["campaign"],
            "current": money(now, currency),
            "recommended": money(then, currency),
            "change_pct": r["change_pct"],
            "conversions": r["expected_conversions"],
        }
        for r, now, then in zip(payload, current, recommended, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "campaign": [r["campaign"] for r in payload],
            "current_spend": [m / MICROS for m in current],
            "recommended_spend": [m / MICROS for m in recommended],
        }
    )
    return rows, inline_svg(spend_bars_figure(frame, currency)), sum(current)


def diagnostics_text(curve: EntityCurve, currency: str) -> list[str]:
    """The fit's diagnostics as sentences a PPC manager can check against their own sense."""
    d = curve.diagnostics
    reason = d.reason.removeprefix(f"{d.grade}:").strip()
    lines = [
        f"Grade {d.grade}: {reason}.",
        f"Curve family: {d.family}, chosen by time-ordered cross-validation "
        f"over {', '.join(sorted(d.family_deviance)) or d.family}.",
        f"Data: {d.days} days with spend in a {d.window_days}-day window, "
        f"{d.conversions:,.1f} conversions; daily spend from {money(d.spend_min, currency)} to "
        f"{money(d.spend_max, currency)} (varied {d.spend_cv:.0%}).",
        f"Trust region: {money(curve.trust_low, currency)} to {money(curve.trust_high, currency)} "
        "a day; outside it the curve is an extrapolation.",
    ]
    if d.skill is not None:
        verdict = "better" if d.skill > 0 else "no better"
        lines.append(
            f"On held-out days the curve predicts {verdict} than a constant mean per day "
            f"(skill {d.skill:+.0%})."
        )
    if d.pooled and d.pooled != "none":
        lines.append(f"Thin data: pooled toward its campaign ({d.pooled}).")
    if curve.value_per_conversion > 0:
        lines.append(f"Value per conversion: {money(curve.value_per_conversion, currency)}.")
    return lines


def curve_view(
    engine: Engine, principal: Principal, name: str, entity_id: str
) -> tuple[Account, EntityCurve, Markup, dict[str, Any] | None]:
    """The curve, its chart (observed days, fit, band, trust region, current and recommended)
    and its row of the latest published plan (None if not published)."""
    account = account_as(engine, principal, name)
    stored = curves_as(engine, principal, account.name)
    curve = next((c for c in stored.curve_set if c.entity_id == entity_id), None)
    if curve is None:
        raise NotFoundError(f"no fitted curve with id '{entity_id}' in the latest fit")
    history = history_as(engine, principal, account.name, start=stored.curve_set.window_start)
    mask = pd.Series(True, index=history.index)
    for column in NAME_COLUMNS:
        mask &= history[column] == getattr(curve.key, column)
    planned = None
    rec = _latest(engine, principal, account.name)
    if rec is not None:
        for row in rec.payload["keyword"]:
            if all(row[c] == getattr(curve.key, c) for c in NAME_COLUMNS):
                planned = row
    fig = curve_figure(
        curve,
        per_day(history.loc[mask].reset_index(drop=True), stored.curve_set.grain),
        recommended_spend=None if planned is None else int(planned["micros"]) / MICROS,
    )
    return account, curve, inline_svg(fig), planned


def frontier_view(
    engine: Engine, principal: Principal, name: str
) -> tuple[Account, list[dict[str, Any]], Markup, recommendations.Recommendation | None, float]:
    """Frontier rows, its chart with the current total, the day's cap budget and the plan."""
    account = account_as(engine, principal, name)
    result = frontier_as(
        engine, principal, account.name, AllocationRequest(currency=account.currency)
    )
    rec = _latest(engine, principal, account.name)
    fig = frontier_figure(
        result,
        cap=None if rec is None else rec.budget_micros / MICROS,
        recommended=None if rec is None else rec.total_micros / MICROS,
        cap_label="budget under the cap",
    )
    rows = [
        {
            "budget": money(float(p["budget"]), account.currency),
            "conversions": float(p["expected_conversions"]),
            "average_cpa": _cpa(p["average_cpa"], account.currency),
            "marginal_cpa": _cpa(p["marginal_cpa"], account.currency),
        }
        for p in result.points.to_dict("records")
        if bool(p["feasible"])
    ]
    return account, rows, inline_svg(fig), rec, result.current_total


def _cpa(value: object, currency: str) -> str:
    return "-" if value is None else money(float(str(value)), currency)


def accuracy_view(
    engine: Engine, principal: Principal, name: str
) -> tuple[Account, LedgerAccuracy | None, Markup | None, str]:
    """The ledger's scores and a chart of predicted against actual conversions per day (None when
    no published day has mature performance yet, with the reason)."""
    account = account_as(engine, principal, name)
    try:
        result = ledger_accuracy(engine, principal, account.name)
    except InvalidInputError as error:
        return account, None, None, error.message
    return account, result, inline_svg(accuracy_figure(result.accuracy.by_day)), ""


def experiments_view(engine: Engine, principal: Principal, name: str) -> list[Experiment]:
    """The account's spend tests, newest first, with their read-outs."""
    return list_experiments(engine, principal, name)


def report_html(
    engine: Engine,
    principal: Principal,
    name: str,
    period: str,
    lang: str | None,
    calendar: str = "gregorian",
) -> str:
    """The month's report page, in `lang` or the account's locale's language."""
    gathered = month_report(engine, principal, name, period[:7])
    return render_html(gathered, report_language(gathered.locale, lang), calendar)
