"""What-if answers: an allocation or a budget frontier for a stored account; nothing published."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request

from api.cancel import run_while_connected
from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import (
    AllocationOut,
    CampaignLimitsIn,
    FrontierIn,
    FrontierOut,
    OptimizationIn,
    SolverOptions,
)
from optimizer.access import Action, require
from optimizer.money import micros_to_decimal, parse_amount
from optimizer.report import likely_total, recommendation_table
from optimizer.requests import build_request
from optimizer.solver import AllocationRequest
from optimizer.usecases.accounts import Account
from optimizer.usecases.authorized import account_as, frontier_as, plan_as

__all__ = ["records", "router", "solver_request"]

router = APIRouter(prefix="/v1", tags=["what-if"])


def solver_request(options: SolverOptions, account: Account) -> AllocationRequest:
    """The request in the body, its amounts read with the body's or the account's decimal mark
    (campaign locks are resolved by the use case, against the curves)."""
    bounds = (
        {name: (b.min, b.max) for name, b in options.campaign_bounds.items()}
        if isinstance(options, CampaignLimitsIn)
        else None
    )
    return build_request(
        account.currency,
        decimal_comma=account.decimal_comma(options.decimal_comma),
        budget=options.budget,
        objective=options.objective,
        margin=options.margin,
        conversions_target=options.conversions_target,
        max_change=options.max_change,
        groups=options.groups,
        target_cpa=options.target_cpa,
        target_roas=options.target_roas,
        conservative=options.conservative,
        allow_new=options.allow_new,
        campaign_bounds=bounds,
    )


def _clean(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (infinite marginal CPA -> null)."""
    return [{str(k): _clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def _money(value: float, currency: str) -> str:
    return str(micros_to_decimal(round(value * 1_000_000), currency))


@router.post("/accounts/{account}/optimizations")
def optimize(
    account: str, body: OptimizationIn, engine: StoreEngine, principal: CurrentPrincipal
) -> AllocationOut:
    """Allocate a daily budget (or the paced share of `monthly_cap`) for `date` (default
    tomorrow in the account's time zone). A what-if: nothing is published."""
    require(principal, Action.WHAT_IF)
    acct = account_as(engine, principal, account)
    request = solver_request(body, acct)
    cap = (
        parse_amount(
            body.monthly_cap,
            field="monthly_cap",
            decimal_comma=acct.decimal_comma(body.decimal_comma),
        )
        if body.monthly_cap is not None
        else None
    )
    result = plan_as(
        engine,
        principal,
        account,
        request,
        day=body.date,
        monthly_cap_micros=cap,
        locked_campaigns=body.locked_campaigns,
    )
    allocation = result.plan.allocation
    table = recommendation_table(
        allocation, result.plan.day, body.level, band_scale=result.plan.band_scale
    )
    likely = likely_total(allocation, result.plan.band_scale)
    table["recommended_spend"] = [_money(v, acct.currency) for v in table["recommended_spend"]]
    table["current_spend"] = [_money(v, acct.currency) for v in table["current_spend"]]
    return AllocationOut(
        account=acct.name,
        date=result.plan.day,
        currency=acct.currency,
        level=body.level,
        budget=None
        if allocation.budget_micros is None
        else str(micros_to_decimal(allocation.budget_micros, acct.currency)),
        total=str(micros_to_decimal(allocation.total_micros, acct.currency)),
        expected_conversions=allocation.expected_conversions,
        expected_conversions_low=allocation.conversions_low,
        expected_conversions_high=allocation.conversions_high,
        likely_conversions_low=likely[0],
        likely_conversions_high=likely[1],
        expected_value=allocation.expected_value,
        cap_shadow_price=_clean(allocation.cap_shadow_price),
        solver=allocation.solver,
        pacing=(
            result.plan.pacing.explanation
            if result.plan.pacing is not None
            else (result.plan.basis or None)
        ),
        notes=[r.text for r in allocation.relaxations],
        curve_set_version=result.curves.version,
        rows=records(table),
    )


@router.post("/accounts/{account}/frontier")
async def frontier(
    account: str,
    body: FrontierIn,
    request: Request,
    engine: StoreEngine,
    principal: CurrentPrincipal,
) -> FrontierOut:
    """Expected conversions and value for a range of total daily budgets (default 50%..200%
    of current spend); a client that goes away stops it between budgets."""
    require(principal, Action.WHAT_IF)

    def work(should_stop: Callable[[], bool]) -> FrontierOut:
        acct = account_as(engine, principal, account)
        options = solver_request(body.model_copy(update={"budget": None}), acct)
        decimal_comma = acct.decimal_comma(body.decimal_comma)
        budgets = (
            [parse_amount(b, field="budgets", decimal_comma=decimal_comma) for b in body.budgets]
            if body.budgets
            else None
        )
        result = frontier_as(
            engine,
            principal,
            account,
            options,
            day=body.date,
            budgets_micros=budgets,
            locked_campaigns=body.locked_campaigns,
            should_stop=should_stop,
        )
        return FrontierOut(account=acct.name, currency=acct.currency, points=records(result.points))

    return await run_while_connected(request, work)
