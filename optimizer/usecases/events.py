"""An account's calendar of events: promotions, outages and stretches to leave out of the fit.

A manager (or admin) adds, removes, confirms and dismisses events; every change is audited in the
transaction that makes it. The fit proposes events for runs of days its curves cannot explain
(`propose_events`); they count only once a person confirms them. A dismissed proposal is kept, so
the same days are not proposed again every night.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, delete, insert, select, update

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import ConflictError, InvalidInputError, NotFoundError
from optimizer.models.events import EVENT_KINDS, Event, ProposedEvent
from optimizer.store.engine import transaction
from optimizer.store.tables import account_events
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.audit import record

__all__ = [
    "EVENT_STATUSES",
    "StoredEvent",
    "add_event",
    "confirmed_events",
    "decide_event",
    "list_events",
    "propose_events",
    "remove_event",
]

EventStatus = Literal["confirmed", "proposed", "dismissed"]
EVENT_STATUSES: tuple[str, ...] = ("confirmed", "proposed", "dismissed")
_MAX_NOTE = 2000
_FIT = "fit (proposed)"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    account: str
    start: dt.date
    end: dt.date
    kind: str
    status: str
    note: str
    created_by: str
    created_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    lift: float | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def add_event(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    start: dt.date,
    end: dt.date,
    kind: str,
    note: str = "",
    lift: float | None = None,
) -> StoredEvent:
    """Record a confirmed event; the next fit leaves its days out (outage, exclude) or gives them
    their own factor (promo). A promotion's `lift` weighs its days in period plans."""
    require(principal, Action.EVENTS_WRITE)
    _checked(start, end, kind, lift)
    clean = _note(note)
    with transaction(engine) as connection:
        account = _visible(connection, principal, account_name)
        now = dt.datetime.now(dt.UTC)
        event_id = connection.execute(
            insert(account_events)
            .values(
                account_id=account.id,
                first_day=start,
                last_day=end,
                kind=kind,
                lift=lift,
                status="confirmed",
                note=clean,
                created_by=principal.actor,
                created_at=now,
                decided_by=principal.actor,
                decided_at=now,
            )
            .returning(account_events.c.id)
        ).scalar_one()
        event = _load(connection, account, int(event_id))
        record(
            connection,
            principal,
            "event.add",
            f"event {event.id}",
            account_id=account.id,
            after=_shown(event),
        )
    return event


def list_events(
    engine: Engine, principal: Principal, account_name: str, *, status: str | None = None
) -> list[StoredEvent]:
    """The account's events, by first day."""
    require(principal, Action.EVENTS_READ)
    if status is not None and status not in EVENT_STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(EVENT_STATUSES)}")
    with transaction(engine) as connection:
        account = _visible(connection, principal, account_name)
        query = select(account_events).where(account_events.c.account_id == account.id)
        if status is not None:
            query = query.where(account_events.c.status == status)
        rows = connection.execute(
            query.order_by(account_events.c.first_day, account_events.c.id)
        ).all()
        return [_event(row, account.name) for row in rows]


def remove_event(
    engine: Engine, principal: Principal, account_name: str, event_id: int
) -> StoredEvent:
    """Delete an event (the next fit treats its days as ordinary again)."""
    require(principal, Action.EVENTS_WRITE)
    with transaction(engine) as connection:
        account = _visible(connection, principal, account_name)
        event = _load(connection, account, event_id)
        connection.execute(delete(account_events).where(account_events.c.id == event_id))
        record(
            connection,
            principal,
            "event.remove",
            f"event {event_id}",
            account_id=account.id,
            before=_shown(event),
        )
    return event


def decide_event(
    engine: Engine, principal: Principal, account_name: str, event_id: int, *, confirm: bool
) -> StoredEvent:
    """Confirm a proposed event (the fit then uses it) or dismiss it (it stays, unused)."""
    require(principal, Action.EVENTS_WRITE)
    with transaction(engine) as connection:
        account = _visible(connection, principal, account_name)
        before = _load(connection, account, event_id)
        if before.status != "proposed":
            raise ConflictError(
                f"event {event_id} is {before.status}, not proposed; only a proposed event can be "
                "confirmed or dismissed"
            )
        status: EventStatus = "confirmed" if confirm else "dismissed"
        connection.execute(
            update(account_events)
            .where(account_events.c.id == event_id, account_events.c.status == "proposed")
            .values(status=status, decided_by=principal.actor, decided_at=dt.datetime.now(dt.UTC))
        )
        after = _load(connection, account, event_id)
        record(
            connection,
            principal,
            f"event.{'confirm' if confirm else 'dismiss'}",
            f"event {event_id}",
            account_id=account.id,
            before=_shown(before),
            after=_shown(after),
        )
    return after


def confirmed_events(connection: Connection, account_id: int) -> tuple[Event, ...]:
    """The events a fit of the account uses."""
    rows = connection.execute(
        select(
            account_events.c.first_day,
            account_events.c.last_day,
            account_events.c.kind,
            account_events.c.lift,
        )
        .where(account_events.c.account_id == account_id, account_events.c.status == "confirmed")
        .order_by(account_events.c.first_day, account_events.c.id)
    ).all()
    return tuple(
        Event(r.first_day, r.last_day, r.kind, None if r.lift is None else float(r.lift))
        for r in rows
    )


def propose_events(
    connection: Connection, account_id: int, proposals: tuple[ProposedEvent, ...]
) -> int:
    """Store the fit's proposals that overlap no event of the account yet (whatever its status);
    how many were new."""
    rows = connection.execute(
        select(account_events.c.first_day, account_events.c.last_day).where(
            account_events.c.account_id == account_id
        )
    ).all()
    taken = [(r.first_day, r.last_day) for r in rows]
    now = dt.datetime.now(dt.UTC)
    added = 0
    for proposal in proposals:
        if any(lo <= proposal.end and proposal.start <= hi for lo, hi in taken):
            continue
        connection.execute(
            insert(account_events).values(
                account_id=account_id,
                first_day=proposal.start,
                last_day=proposal.end,
                kind=proposal.kind,
                status="proposed",
                note=proposal.reason[:_MAX_NOTE],
                created_by=_FIT,
                created_at=now,
            )
        )
        taken.append((proposal.start, proposal.end))
        added += 1
    return added


def _checked(start: dt.date, end: dt.date, kind: str, lift: float | None) -> None:
    if kind not in EVENT_KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(EVENT_KINDS)}, not '{kind}'")
    Event(start, end, kind, lift)  # type: ignore[arg-type]


def _note(note: str) -> str:
    clean = note.strip()
    if len(clean) > _MAX_NOTE:
        raise InvalidInputError(f"the note is longer than {_MAX_NOTE} characters")
    return clean


def _visible(connection: Connection, principal: Principal, name: str) -> Account:
    account = find_account(connection, name)
    require_account(principal, account.id, account.name)
    return account


def _load(connection: Connection, account: Account, event_id: int) -> StoredEvent:
    row = connection.execute(
        select(account_events).where(
            account_events.c.id == event_id, account_events.c.account_id == account.id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"account '{account.name}' has no event with id {event_id}")
    return _event(row, account.name)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _event(row: Any, account: str) -> StoredEvent:
    r = row._mapping
    created = _utc(r["created_at"])
    assert created is not None
    return StoredEvent(
        id=int(r["id"]),
        account=account,
        start=r["first_day"],
        end=r["last_day"],
        kind=r["kind"],
        status=r["status"],
        note=r["note"],
        created_by=r["created_by"],
        created_at=created,
        decided_by=r["decided_by"],
        decided_at=_utc(r["decided_at"]),
        lift=None if r["lift"] is None else float(r["lift"]),
    )


def _shown(event: StoredEvent) -> dict[str, object]:
    return asdict(event)
