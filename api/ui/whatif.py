"""The what-if form: typed text <-> the API's `OptimizationIn`, the plan it asks for, and which
field each error belongs to.

The form posts the same fields the API takes (`POST /v1/accounts/{account}/optimizations`); with
JavaScript the page sends that very JSON. Nothing here plans: the use cases do (`plan_as`,
`frontier_as`, `set_policy`), with the same request builder as the API (`solver_request`).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import Engine

from api.routes.plans import solver_request
from api.schemas import OptimizationIn
from api.ui.render import inline_svg, money
from optimizer.access import Principal
from optimizer.errors import InvalidInputError, OptimizerError
from optimizer.money import parse_amount
from optimizer.plots import frontier_figure
from optimizer.report import recommendation_table
from optimizer.schema import MICROS
from optimizer.usecases.accounts import Account
from optimizer.usecases.authorized import curves_as, frontier_as, plan_as
from optimizer.usecases.optimize import tomorrow
from optimizer.usecases.policy import PlanPolicy

__all__ = [
    "Campaign",
    "Typed",
    "WhatIf",
    "campaigns_of",
    "field_errors",
    "policy_from",
    "run_whatif",
    "typed_from_body",
    "typed_from_form",
    "typed_from_policy",
]

_TEXT_FIELDS = (
    "budget",
    "monthly_cap",
    "objective",
    "margin",
    "conversions_target",
    "max_change",
    "target_cpa",
    "target_roas",
)
_NUMBERS = ("margin", "conversions_target", "max_change", "target_roas")
_BINDING_WORDS = {
    "cap": "the budget (spending more would buy more)",
    "none": "nothing: the curve's best point",
    "max_change": "the largest change allowed per day",
    "max_increase": "the largest rise allowed per day",
    "max_decrease": "the largest cut allowed per day",
    "trust_high": "the top of the curve's trust region (no data above it)",
    "trust_low": "the bottom of the curve's trust region",
    "locked": "locked at current spend",
    "no_history": "no current spend (new entities get none unless allowed)",
    "target_cpa": "the target CPA",
    "target_roas": "the target ROAS",
}


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    current_micros: int


@dataclass
class Typed:
    """What the person typed, as typed: shown again on an error, so nothing is lost."""

    values: dict[str, str] = field(default_factory=dict)
    groups: str = ""
    conservative: bool = False
    allow_new: bool = False
    locked: set[str] = field(default_factory=set)
    bounds: dict[str, tuple[str, str]] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The `OptimizationIn` JSON these values spell (blank fields left out)."""
        out: dict[str, Any] = {"level": "campaign"}
        for name in _TEXT_FIELDS:
            text = self.values.get(name, "").strip()
            if text:
                out[name] = text
        out["groups"] = [g.strip() for g in self.groups.splitlines() if g.strip()]
        out["conservative"] = self.conservative
        out["allow_new"] = self.allow_new
        out["locked_campaigns"] = sorted(self.locked)
        out["campaign_bounds"] = {
            name: {k: v.strip() for k, v in zip(("min", "max"), pair, strict=True) if v.strip()}
            for name, pair in sorted(self.bounds.items())
            if any(v.strip() for v in pair)
        }
        return out


def typed_from_form(form: Mapping[str, Any]) -> Typed:
    """The form's fields: campaign rows come as campaign_N with lock_N, min_N and max_N."""
    typed = Typed(
        values={name: str(form.get(name) or "") for name in _TEXT_FIELDS},
        groups=str(form.get("groups") or ""),
        conservative=form.get("conservative") == "on",
        allow_new=form.get("allow_new") == "on",
    )
    for key in list(form.keys()):
        if not key.startswith("campaign_"):
            continue
        index = key.removeprefix("campaign_")
        name = str(form.get(key) or "")
        if form.get(f"lock_{index}") == "on":
            typed.locked.add(name)
        typed.bounds[name] = (
            str(form.get(f"min_{index}") or ""),
            str(form.get(f"max_{index}") or ""),
        )
    return typed


def typed_from_body(body: Mapping[str, Any]) -> Typed:
    """The JSON the page's script sends, shown back the same way when it has errors."""
    typed = Typed(
        values={
            name: "" if body.get(name) is None else str(body.get(name)) for name in _TEXT_FIELDS
        },
        groups="\n".join(str(g) for g in body.get("groups") or []),
        conservative=bool(body.get("conservative")),
        allow_new=bool(body.get("allow_new")),
        locked={str(n) for n in body.get("locked_campaigns") or []},
    )
    bounds = body.get("campaign_bounds") or {}
    if isinstance(bounds, dict):
        for name, pair in bounds.items():
            if isinstance(pair, dict):
                typed.bounds[str(name)] = (str(pair.get("min") or ""), str(pair.get("max") or ""))
    return typed


def typed_from_policy(policy: PlanPolicy) -> Typed:
    """The standing policy as the form shows it first."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return Typed(
        values={
            "objective": policy.objective,
            "margin": text(policy.margin),
            "max_change": text(policy.max_change),
            "target_cpa": text(policy.target_cpa),
            "target_roas": text(policy.target_roas),
        },
        groups="\n".join(policy.groups),
        conservative=policy.conservative,
        allow_new=policy.allow_new,
        locked=set(policy.locked_campaigns),
    )


def campaigns_of(engine: Engine, principal: Principal, account: Account) -> list[Campaign]:
    """The latest curves' campaigns with their current daily spend for tomorrow, as the plan
    counts it (what a lock keeps); empty before a fit."""
    try:
        stored = curves_as(engine, principal, account.name)
    except OptimizerError:
        return []
    table = stored.curve_set.table(tomorrow(account))
    spend = table.groupby("campaign", sort=True)["current_spend"].sum()
    return [Campaign(str(name), round(float(value) * MICROS)) for name, value in spend.items()]


def field_errors(
    body: dict[str, Any], account: Account
) -> tuple[OptimizationIn | None, dict[str, str]]:
    """The validated request, or each field's error: the schema's first, then the request
    builder's, tried one field at a time so each message lands next to its own field."""
    try:
        options = OptimizationIn.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = [str(p) for p in error.get("loc", ())]
            name = where[0] if where else "form"
            if name == "campaign_bounds" and len(where) > 1:
                name = f"campaign:{where[1]}"
            errors.setdefault(name, str(error.get("msg", "invalid")))
        return None, errors
    errors = {}
    blank = OptimizationIn(level="campaign")
    for name in ("budget", "objective", "groups", "target_cpa", "campaign_bounds"):
        single = blank.model_copy(update={name: getattr(options, name)})
        if name == "objective":
            single = single.model_copy(
                update={
                    "margin": options.margin,
                    "conversions_target": options.conversions_target,
                }
            )
        try:
            solver_request(single, account)
        except InvalidInputError as exc:
            key = name
            if name == "campaign_bounds":
                key = next(
                    (f"campaign:{n}" for n in options.campaign_bounds if f"'{n}'" in exc.message),
                    "campaign_bounds",
                )
            errors[key] = exc.message
    if options.monthly_cap is not None:
        try:
            parse_amount(
                options.monthly_cap,
                field="monthly_cap",
                decimal_comma=account.decimal_comma(options.decimal_comma),
            )
        except InvalidInputError as exc:
            errors["monthly_cap"] = exc.message
    if not errors:
        try:
            solver_request(options, account)
        except InvalidInputError as exc:
            errors["form"] = exc.message
    return (None, errors) if errors else (options, {})


@dataclass(frozen=True)
class WhatIf:
    """A what-if's answer as the page shows it."""

    summary: dict[str, str]
    rows: list[dict[str, Any]]
    binding: list[tuple[str, int, str]]
    notes: list[str]
    chart: Markup | None
    request_json: str


def run_whatif(
    engine: Engine, principal: Principal, account: Account, options: OptimizationIn
) -> WhatIf:
    """The plan and the frontier for `options`, from the use cases the API calls."""
    request = solver_request(options, account)
    cap = (
        parse_amount(
            options.monthly_cap,
            field="monthly_cap",
            decimal_comma=account.decimal_comma(options.decimal_comma),
        )
        if options.monthly_cap is not None
        else None
    )
    result = plan_as(
        engine,
        principal,
        account.name,
        request,
        day=options.date,
        monthly_cap_micros=cap,
        locked_campaigns=options.locked_campaigns,
    )
    allocation = result.plan.allocation
    cur = account.currency
    table = recommendation_table(allocation, result.plan.day, "campaign")
    rows = [
        {
            "campaign": r["campaign"],
            "current": money(float(r["current_spend"]), cur),
            "recommended": money(float(r["recommended_spend"]), cur),
            "change_pct": r["change_pct"],
            "conversions": float(r["expected_conversions"]),
            "marginal_cpa": money(float(r["marginal_cpa"]), cur),
            "bound": str(r["bound"]),
        }
        for r in table.to_dict("records")
    ]
    reasons = Counter(str(b) for b in allocation.entities["binding"])
    binding = [(name, count, _words(name)) for name, count in reasons.most_common()]
    frontier = frontier_as(
        engine,
        principal,
        account.name,
        dataclasses.replace(request, budget_micros=None),
        day=options.date,
        locked_campaigns=options.locked_campaigns,
    )
    chart = inline_svg(
        frontier_figure(
            frontier,
            cap=None if allocation.budget_micros is None else allocation.budget_micros / 1e6,
            recommended=allocation.total_micros / 1e6,
            cap_label="budget",
        )
    )
    pacing = result.plan.pacing.explanation if result.plan.pacing else result.plan.basis
    summary = {
        "day": result.plan.day.isoformat(),
        "budget": "-" if allocation.budget_micros is None else money(allocation.budget_micros, cur),
        "total": money(allocation.total_micros, cur),
        "current": money(float(allocation.current_total), cur),
        "conversions": f"{allocation.expected_conversions:,.1f}",
        "band": f"{allocation.conversions_low:,.1f} to {allocation.conversions_high:,.1f}",
        "value": money(float(allocation.expected_value), cur),
        "shadow": allocation.shadow_price_text(),
        "pacing": pacing or "",
        "curves": str(result.curves.version),
    }
    shown = options.model_dump(mode="json", exclude_defaults=True)
    return WhatIf(
        summary=summary,
        rows=rows,
        binding=binding,
        notes=[r.text for r in allocation.relaxations],
        chart=chart,
        request_json=json.dumps(shown, indent=2, ensure_ascii=False),
    )


def _words(reason: str) -> str:
    head, _, name = reason.partition(":")
    if name and head == "group":
        return f"the limit of group '{name}'"
    if name and head == "campaign":
        return f"the range set for campaign '{name}'"
    return _BINDING_WORDS.get(reason, reason.replace("_", " "))


def policy_from(
    options: OptimizationIn, before: PlanPolicy, decimal_comma: bool | None
) -> PlanPolicy:
    """The standing policy the what-if's limits make; what the form does not show (max rise and
    cut per day) is kept from the policy before. Budgets and campaign ranges are per what-if."""
    return dataclasses.replace(
        before,
        objective=options.objective,
        margin=options.margin,
        max_change=options.max_change,
        groups=tuple(options.groups),
        target_cpa=options.target_cpa,
        target_roas=options.target_roas,
        locked_campaigns=tuple(options.locked_campaigns),
        allow_new=options.allow_new,
        conservative=options.conservative,
        decimal_comma=decimal_comma,
    )
