"""Account events: added, listed, removed, the fit's proposals confirmed or dismissed; every change
audited with it; rights by role; the fit uses confirmed events only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from optimizer.access import Principal, Role, system_principal
from optimizer.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from optimizer.models.events import ProposedEvent
from optimizer.store.engine import transaction
from optimizer.usecases.accounts import create_account
from optimizer.usecases.audit import list_audit
from optimizer.usecases.events import (
    add_event,
    confirmed_events,
    decide_event,
    list_events,
    propose_events,
    remove_event,
)

MANAGER = system_principal("cli:maria", Role.MANAGER)
FINANCE = system_principal("cli:fred", Role.FINANCE)
DAY = dt.date(2026, 5, 1)


@pytest.fixture
def shop(engine: Engine) -> int:
    return create_account(engine, "shop", currency="EUR", timezone="Europe/Berlin").id


def _audit(engine: Engine) -> list[str]:
    return [e.action for e in list_audit(engine, system_principal("audit", Role.ADMIN))]


def test_events_are_added_listed_and_removed_with_an_audit_trail(engine: Engine, shop: int):
    promo = add_event(engine, MANAGER, "shop", start=DAY, end=DAY + dt.timedelta(days=6),
                      kind="promo", note="spring sale")  # fmt: skip
    outage = add_event(engine, MANAGER, "shop", start=DAY - dt.timedelta(days=30),
                       end=DAY - dt.timedelta(days=29), kind="outage")  # fmt: skip
    listed = list_events(engine, FINANCE, "shop")
    assert [e.id for e in listed] == [outage.id, promo.id]
    assert promo.status == "confirmed" and promo.days == 7 and promo.note == "spring sale"
    remove_event(engine, MANAGER, "shop", outage.id)
    assert [e.id for e in list_events(engine, MANAGER, "shop")] == [promo.id]
    assert _audit(engine)[:3] == ["event.remove", "event.add", "event.add"]
    with transaction(engine) as connection:
        assert confirmed_events(connection, shop)[0].kind == "promo"


def test_proposals_count_only_once_confirmed_and_are_never_repeated(engine: Engine, shop: int):
    proposals = (
        ProposedEvent(DAY, DAY + dt.timedelta(days=3), "outage", "no conversions where ..."),
        ProposedEvent(DAY + dt.timedelta(days=20), DAY + dt.timedelta(days=25), "promo", "..."),
    )
    with transaction(engine) as connection:
        assert propose_events(connection, shop, proposals) == 2
        assert confirmed_events(connection, shop) == ()
        assert propose_events(connection, shop, proposals) == 0
    first, second = list_events(engine, MANAGER, "shop", status="proposed")
    assert first.created_by == "fit (proposed)" and "no conversions" in first.note
    assert decide_event(engine, MANAGER, "shop", first.id, confirm=True).status == "confirmed"
    assert decide_event(engine, MANAGER, "shop", second.id, confirm=False).status == "dismissed"
    with transaction(engine) as connection:
        assert [e.kind for e in confirmed_events(connection, shop)] == ["outage"]
        assert propose_events(connection, shop, proposals) == 0
    with pytest.raises(ConflictError):
        decide_event(engine, MANAGER, "shop", first.id, confirm=False)
    assert _audit(engine)[:2] == ["event.dismiss", "event.confirm"]


@pytest.mark.parametrize(
    ("start", "end", "kind"),
    [(DAY, DAY - dt.timedelta(days=1), "promo"), (DAY, DAY, "sale")],
    ids=["ends-before-start", "unknown-kind"],
)
def test_bad_events_are_refused_and_nothing_is_stored(
    engine: Engine, shop: int, start: dt.date, end: dt.date, kind: str
) -> None:
    with pytest.raises(InvalidInputError):
        add_event(engine, MANAGER, "shop", start=start, end=end, kind=kind)
    assert list_events(engine, MANAGER, "shop") == []


def test_who_may_do_what(engine: Engine, shop: int) -> None:
    with pytest.raises(PermissionDeniedError):
        add_event(engine, FINANCE, "shop", start=DAY, end=DAY, kind="exclude")
    script = system_principal("script", Role.SCRIPT)
    with pytest.raises(PermissionDeniedError):
        list_events(engine, script, "shop")
    other = create_account(engine, "other", currency="EUR", timezone="UTC")
    scoped = Principal(role=Role.MANAGER, label="m", key_id=7, account_ids=frozenset({other.id}))
    with pytest.raises(NotFoundError):
        add_event(engine, scoped, "shop", start=DAY, end=DAY, kind="exclude")
    event = add_event(engine, MANAGER, "shop", start=DAY, end=DAY, kind="exclude")
    with pytest.raises(NotFoundError):
        remove_event(engine, MANAGER, "other", event.id)
