"""An account's events: promotions, outages and days to leave out of the fit (managers write)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentPrincipal, RowId, StoreEngine
from api.schemas import EventIn, EventOut
from optimizer.usecases.events import (
    StoredEvent,
    add_event,
    decide_event,
    list_events,
    remove_event,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["events"])


def _out(event: StoredEvent) -> EventOut:
    return EventOut(
        id=event.id,
        account=event.account,
        start=event.start,
        end=event.end,
        kind=event.kind,
        status=event.status,
        note=event.note,
        created_by=event.created_by,
        created_at=event.created_at,
        decided_by=event.decided_by,
        decided_at=event.decided_at,
        lift=event.lift,
    )


@router.post("/accounts/{account}/events", status_code=status.HTTP_201_CREATED)
def add(account: str, body: EventIn, engine: StoreEngine, principal: CurrentPrincipal) -> EventOut:
    """Add a confirmed event; the next fit leaves outage and exclude days out and gives promo days
    their own factor. A promotion's `lift` weighs its days in the cap's period plan."""
    event = add_event(
        engine,
        principal,
        account,
        start=body.start,
        end=body.end,
        kind=body.kind,
        note=body.note,
        lift=body.lift,
    )
    return _out(event)


@router.get("/accounts/{account}/events")
def list_(
    account: str,
    engine: StoreEngine,
    principal: CurrentPrincipal,
    status: Annotated[Literal["confirmed", "proposed", "dismissed"] | None, Query()] = None,
) -> list[EventOut]:
    """The account's events by first day; the fit's proposals have status `proposed`."""
    return [_out(e) for e in list_events(engine, principal, account, status=status)]


@router.delete("/accounts/{account}/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove(
    account: str, event_id: RowId, engine: StoreEngine, principal: CurrentPrincipal
) -> Response:
    remove_event(engine, principal, account, event_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accounts/{account}/events/{event_id}/confirm")
def confirm(
    account: str, event_id: RowId, engine: StoreEngine, principal: CurrentPrincipal
) -> EventOut:
    """Confirm an event the fit proposed: the next fit uses it."""
    return _out(decide_event(engine, principal, account, event_id, confirm=True))


@router.post("/accounts/{account}/events/{event_id}/dismiss")
def dismiss(
    account: str, event_id: RowId, engine: StoreEngine, principal: CurrentPrincipal
) -> EventOut:
    """Dismiss an event the fit proposed: kept, unused, never proposed again."""
    return _out(decide_event(engine, principal, account, event_id, confirm=False))
