"""Spend caps: proposed by a manager or finance, approved or rejected once by another person.

An approved cap never changes; a new figure is a new cap. When approved caps overlap, every one
covering a day applies and the tightest binds (a looser cap never wins); to raise a cap, finance
approves the new one and the old one stops binding only when it is tighter no more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Select, insert, select, update

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from optimizer.money import (
    floor_to_minor_unit,
    micros_to_decimal,
    parse_amount,
    validate_currency,
)
from optimizer.people import person_of
from optimizer.store.engine import transaction
from optimizer.store.tables import accounts, caps, users
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.audit import record

__all__ = [
    "MAX_CAP_DAYS",
    "Cap",
    "CapStatus",
    "cap_by_id",
    "caps_covering",
    "decide_cap",
    "get_cap",
    "list_caps",
    "propose_cap",
]

CapStatus = Literal["proposed", "approved", "rejected"]
MAX_CAP_DAYS = 366
_MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Cap:
    id: int
    account: str
    period_start: dt.date
    period_end: dt.date
    amount_micros: int
    currency: str
    note: str
    status: CapStatus
    proposed_by: str
    proposed_key_id: int | None
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    replaces: int | None = None
    overlaps: tuple[int, ...] = ()
    proposed_user_id: int | None = None
    proposer: str = ""
    """The person who proposed it: their user's name, else the folded name of a trusted local
    principal (what four eyes compares)."""

    @property
    def amount(self) -> str:
        return str(micros_to_decimal(self.amount_micros, self.currency))

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    def covers(self, day: dt.date) -> bool:
        return self.period_start <= day <= self.period_end


def propose_cap(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    period_start: dt.date,
    period_end: dt.date,
    amount: str,
    currency: str,
    note: str = "",
    decimal_comma: bool | None = None,
    replaces: int | None = None,
) -> Cap:
    """Record a proposed cap; it binds nothing until a finance key (not this one) approves it.

    `amount` is read as people type it (`optimizer.money.parse_amount`), with `decimal_comma`
    when given, else the account's locale. `replaces` names an approved cap of the account that
    stops applying once this one is approved (how finance raises a cap: overlapping caps all
    apply, so a looser one alone never wins). The returned cap lists the approved caps it
    overlaps, so finance sees them before approving."""
    require(principal, Action.CAP_PROPOSE)
    if period_end < period_start:
        raise InvalidInputError("period_end must be on or after period_start")
    if (period_end - period_start).days + 1 > MAX_CAP_DAYS:
        raise InvalidInputError(f"a cap covers at most {MAX_CAP_DAYS} days")
    clean_note = note.strip()
    if len(clean_note) > _MAX_NOTE:
        raise InvalidInputError(f"the note is longer than {_MAX_NOTE} characters")
    with transaction(engine) as connection:
        account = _visible_account(connection, principal, account_name)
        code = validate_currency(currency)
        if code != account.currency:
            raise InvalidInputError(
                f"the cap is in {code} but account '{account.name}' is billed in "
                f"{account.currency}; give the amount in {account.currency}"
            )
        micros = parse_amount(
            amount, field="amount", decimal_comma=account.decimal_comma(decimal_comma)
        )
        if micros <= 0:
            raise InvalidInputError("the cap amount must be greater than zero")
        if floor_to_minor_unit(micros, code) != micros:
            raise InvalidInputError(
                f"amount '{amount}' has more decimals than {code} has (minor unit)"
            )
        if replaces is not None:
            _check_replaceable(connection, account, replaces)
        now = dt.datetime.now(dt.UTC)
        cap_id = connection.execute(
            insert(caps)
            .values(
                account_id=account.id,
                period_start=period_start,
                period_end=period_end,
                amount_micros=micros,
                currency=code,
                note=clean_note,
                status="proposed",
                proposed_by=principal.actor,
                proposed_key_id=principal.key_id,
                proposed_user_id=principal.user_id,
                proposed_at=now,
                replaces=replaces,
            )
            .returning(caps.c.id)
        ).scalar_one()
        cap = _with_overlaps(connection, _load(connection, int(cap_id)))
        record(
            connection,
            principal,
            "cap.propose",
            f"cap {cap.id}",
            account_id=account.id,
            after=_shown(cap),
        )
    return cap


def decide_cap(
    engine: Engine,
    principal: Principal,
    cap_id: int,
    *,
    approve: bool,
    note: str = "",
) -> Cap:
    """Approve or reject a proposed cap, once; the person who proposed it never decides it, with
    whichever key, sign-in or spelling of their name (four eyes compares people, not keys)."""
    require(principal, Action.CAP_DECIDE)
    with transaction(engine) as connection:
        before = _load_for_update(connection, cap_id)
        _check_visible(connection, principal, before)
        if before.status != "proposed":
            raise ConflictError(
                f"cap {cap_id} is already {before.status}; approved caps never change, so "
                "propose a new cap for a different amount"
            )
        same_key = principal.key_id is not None and principal.key_id == before.proposed_key_id
        same_user = principal.user_id is not None and principal.user_id == before.proposed_user_id
        if same_key or same_user or principal.person == before.proposer:
            raise PermissionDeniedError(
                f"cap {cap_id} was proposed by {before.proposer}; another person with the finance "
                "role must decide it (four-eyes rule: it compares people, not keys)"
            )
        status: CapStatus = "approved" if approve else "rejected"
        connection.execute(
            update(caps)
            .where(caps.c.id == cap_id, caps.c.status == "proposed")
            .values(
                status=status,
                decided_by=principal.actor,
                decided_key_id=principal.key_id,
                decided_user_id=principal.user_id,
                decided_at=dt.datetime.now(dt.UTC),
                decision_note=note.strip()[:_MAX_NOTE],
            )
        )
        after = _with_overlaps(connection, _load(connection, cap_id))
        record(
            connection,
            principal,
            f"cap.{'approve' if approve else 'reject'}",
            f"cap {cap_id}",
            account_id=_account_id(connection, after.account),
            before=_shown(before),
            after=_shown(after),
        )
    return after


def get_cap(engine: Engine, principal: Principal, cap_id: int) -> Cap:
    require(principal, Action.CAP_READ)
    with transaction(engine) as connection:
        cap = _load(connection, cap_id)
        _check_visible(connection, principal, cap)
        return _with_overlaps(connection, cap)


def list_caps(
    engine: Engine, principal: Principal, account_name: str, *, status: str | None = None
) -> list[Cap]:
    """The account's caps, newest first."""
    require(principal, Action.CAP_READ)
    if status is not None and status not in ("proposed", "approved", "rejected"):
        raise InvalidInputError("status must be proposed, approved or rejected")
    with transaction(engine) as connection:
        account = _visible_account(connection, principal, account_name)
        query = _select().where(caps.c.account_id == account.id).order_by(caps.c.id.desc())
        if status is not None:
            query = query.where(caps.c.status == status)
        return [_cap(r) for r in connection.execute(query).all()]


def caps_covering(connection: Connection, account: Account, day: dt.date) -> list[Cap]:
    """Every approved cap covering `day` that no approved cap replaces (newest decision first);
    all of them apply."""
    replacing = caps.alias("replacing")
    replaced = (
        select(replacing.c.replaces)
        .where(replacing.c.status == "approved", replacing.c.replaces.is_not(None))
        .scalar_subquery()
    )
    rows = connection.execute(
        _select()
        .where(
            caps.c.account_id == account.id,
            caps.c.status == "approved",
            caps.c.period_start <= day,
            caps.c.period_end >= day,
            caps.c.id.not_in(replaced),
        )
        .order_by(caps.c.decided_at.desc(), caps.c.id.desc())
    ).all()
    return [_cap(row) for row in rows]


def _check_replaceable(connection: Connection, account: Account, cap_id: int) -> None:
    row = connection.execute(
        select(caps.c.account_id, caps.c.status).where(caps.c.id == cap_id)
    ).one_or_none()
    if row is None or int(row.account_id) != account.id or row.status != "approved":
        raise InvalidInputError(
            f"cap {cap_id} is not an approved cap of account '{account.name}', so it cannot be "
            "replaced"
        )


def _with_overlaps(connection: Connection, cap: Cap) -> Cap:
    """`cap` with the ids of the other approved caps of its account over any of its days."""
    rows = connection.execute(
        select(caps.c.id)
        .where(
            caps.c.account_id == _account_id(connection, cap.account),
            caps.c.status == "approved",
            caps.c.id != cap.id,
            caps.c.period_start <= cap.period_end,
            caps.c.period_end >= cap.period_start,
        )
        .order_by(caps.c.id)
    ).all()
    return replace(cap, overlaps=tuple(int(r.id) for r in rows))


def cap_by_id(connection: Connection, cap_id: int) -> Cap:
    """A cap inside the caller's transaction (e.g. the one a recommendation obeys)."""
    return _load(connection, cap_id)


def _visible_account(connection: Connection, principal: Principal, name: str) -> Account:
    account = find_account(connection, name)
    require_account(principal, account.id, account.name)
    return account


def _check_visible(connection: Connection, principal: Principal, cap: Cap) -> None:
    if principal.account_ids is None:
        return
    if _account_id(connection, cap.account) not in principal.account_ids:
        raise NotFoundError(f"no cap with id {cap.id}")


def _account_id(connection: Connection, name: str) -> int:
    return int(
        connection.execute(select(accounts.c.id).where(accounts.c.name == name)).scalar_one()
    )


def _select() -> Select[Any]:
    return (
        select(caps, accounts.c.name.label("account_name"), users.c.name.label("proposer_name"))
        .join(accounts, accounts.c.id == caps.c.account_id)
        .outerjoin(users, users.c.id == caps.c.proposed_user_id)
    )


def _load(connection: Connection, cap_id: int) -> Cap:
    row = connection.execute(_select().where(caps.c.id == cap_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no cap with id {cap_id}")
    return _cap(row)


def _load_for_update(connection: Connection, cap_id: int) -> Cap:
    if connection.dialect.name == "postgresql":
        connection.execute(select(caps.c.id).where(caps.c.id == cap_id).with_for_update())
    return _load(connection, cap_id)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _cap(row: object) -> Cap:
    r = row._mapping  # type: ignore[attr-defined]
    proposed_at = _utc(r["proposed_at"])
    assert proposed_at is not None
    return Cap(
        id=int(r["id"]),
        account=r["account_name"],
        period_start=r["period_start"],
        period_end=r["period_end"],
        amount_micros=int(r["amount_micros"]),
        currency=r["currency"],
        note=r["note"],
        status=r["status"],
        proposed_by=r["proposed_by"],
        proposed_key_id=None if r["proposed_key_id"] is None else int(r["proposed_key_id"]),
        proposed_at=proposed_at,
        decided_by=r["decided_by"],
        decided_at=_utc(r["decided_at"]),
        decision_note=r["decision_note"],
        replaces=None if r["replaces"] is None else int(r["replaces"]),
        proposed_user_id=None if r["proposed_user_id"] is None else int(r["proposed_user_id"]),
        proposer=r["proposer_name"] or person_of(r["proposed_by"]),
    )


def _shown(cap: Cap) -> dict[str, object]:
    shown = asdict(cap)
    shown["amount"] = cap.amount
    return shown
