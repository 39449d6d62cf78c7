"""The audit log, newest first (admin and finance)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import AuditOut
from optimizer.usecases.audit import list_audit

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit")
def audit(
    engine: StoreEngine,
    principal: CurrentPrincipal,
    account: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[AuditOut]:
    """Every write: who, what, when, before and after; page with `before_id`."""
    entries = list_audit(engine, principal, account=account, limit=limit, before_id=before_id)
    return [
        AuditOut(
            id=e.id,
            at=e.at,
            actor=e.actor,
            role=e.role,
            action=e.action,
            account_id=e.account_id,
            target=e.target,
            before=e.before,
            after=e.after,
        )
        for e in entries
    ]
