"""The ad script sends the account's Google Ads structure; publish plans with it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import StructureIn, StructureOut
from optimizer.access import Action, require
from optimizer.usecases.authorized import account_as
from optimizer.usecases.structure import put_structure

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["structure"])


@router.put("/accounts/{account}/structure")
def replace(
    account: str, body: StructureIn, engine: StoreEngine, principal: CurrentPrincipal
) -> StructureOut:
    """Replace the account's structure (shared budgets, bidding, keyword bids); sending the same
    structure again changes nothing (`changed: false`). Script, manager and admin keys."""
    require(principal, Action.STRUCTURE_WRITE)
    account_as(engine, principal, account)
    stored = put_structure(engine, principal, account, body.model_dump())
    return StructureOut(
        account=stored.account,
        digest=stored.digest,
        received_at=stored.received_at,
        received_by=stored.received_by,
        changed=stored.changed,
        campaigns=len(stored.structure.campaigns),
        keywords=len(stored.structure.keywords),
        shared_budgets=[
            {
                "budget_id": b.budget_id,
                "budget_name": b.budget_name,
                "campaigns": list(b.campaigns),
            }
            for b in stored.structure.shared_budgets()
        ],
    )
