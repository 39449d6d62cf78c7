"""Spend caps: proposed by managers or finance, decided by another finance key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from api.deps import CurrentPrincipal, RowId, StoreEngine
from api.schemas import CapDecisionIn, CapIn, CapOut
from optimizer.usecases.caps import Cap, decide_cap, get_cap, list_caps, propose_cap

__all__ = ["cap_out", "router"]

router = APIRouter(prefix="/v1", tags=["caps"])


def cap_out(cap: Cap) -> CapOut:
    return CapOut(
        id=cap.id,
        account=cap.account,
        period_start=cap.period_start,
        period_end=cap.period_end,
        amount=cap.amount,
        currency=cap.currency,
        note=cap.note,
        status=cap.status,
        proposed_by=cap.proposed_by,
        proposed_at=cap.proposed_at,
        decided_by=cap.decided_by,
        decided_at=cap.decided_at,
        decision_note=cap.decision_note,
        replaces=cap.replaces,
        overlaps=list(cap.overlaps),
    )


@router.post("/accounts/{account}/caps", status_code=status.HTTP_201_CREATED)
def propose(account: str, body: CapIn, engine: StoreEngine, principal: CurrentPrincipal) -> CapOut:
    """Propose a cap for a period; it binds nothing until finance approves it."""
    cap = propose_cap(
        engine,
        principal,
        account,
        period_start=body.period_start,
        period_end=body.period_end,
        amount=body.amount,
        currency=body.currency,
        note=body.note,
        decimal_comma=body.decimal_comma,
        replaces=body.replaces,
    )
    return cap_out(cap)


@router.get("/accounts/{account}/caps")
def list_(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    status: Annotated[Literal["proposed", "approved", "rejected"] | None, Query()] = None,
) -> list[CapOut]:
    return [cap_out(c) for c in list_caps(engine, principal, account, status=status)]


@router.get("/caps/{cap_id}")
def get(cap_id: RowId, engine: StoreEngine, principal: CurrentPrincipal) -> CapOut:
    return cap_out(get_cap(engine, principal, cap_id))


@router.post("/caps/{cap_id}/approve")
def approve(
    cap_id: RowId,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    body: CapDecisionIn | None = None,
) -> CapOut:
    """Finance only, and never the key that proposed the cap. Approved caps never change."""
    note = body.note if body is not None else ""
    return cap_out(decide_cap(engine, principal, cap_id, approve=True, note=note))


@router.post("/caps/{cap_id}/reject")
def reject(
    cap_id: RowId,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    body: CapDecisionIn | None = None,
) -> CapOut:
    note = body.note if body is not None else ""
    return cap_out(decide_cap(engine, principal, cap_id, approve=False, note=note))
