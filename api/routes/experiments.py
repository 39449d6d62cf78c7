"""Spend tests (issue 23): where a test would teach the most for its cost, and the account's tests
with their read-outs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, StoreEngine
from api.routes.plans import records
from optimizer.usecases.experiments import list_experiments, suggest

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["experiments"])


@router.get("/accounts/{account}/experiments/suggestions")
def suggestions(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    date: Annotated[dt.date | None, Query()] = None,
) -> dict[str, Any]:
    """Every entity's spend test ranked by its value of information net of its cost (expected
    conversions), with the design and the policy's exploration share."""
    found = suggest(engine, principal, account, date)
    return {
        "account": found.account,
        "date": found.day.isoformat(),
        "exploration_share": found.exploration_share,
        "design": {
            "step": found.design.step,
            "block_days": found.design.block_days,
            "blocks": found.design.blocks,
            "horizon_days": found.design.horizon_days,
            "multiples": list(found.multiples),
        },
        "tests": records(found.ranked),
    }


@router.get("/accounts/{account}/experiments")
def experiments(account: str, engine: StoreEngine, principal: CurrentPrincipal) -> dict[str, Any]:
    """The account's spend tests, newest first: design, dates, status, expected cost and gain,
    and each scored test's read-out."""
    return {
        "account": account,
        "experiments": [t.as_dict() for t in list_experiments(engine, principal, account)],
    }
