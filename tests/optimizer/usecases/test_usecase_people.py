"""People, not keys (issue 20): four eyes over caps compares the people behind keys, a person is
named once whatever the spelling, and an admin's own user never holds a finance key."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from optimizer.access import Principal, Role, system_principal
from optimizer.errors import ConflictError, InvalidInputError, PermissionDeniedError
from optimizer.people import user_name
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.keys import authenticate, create_key, list_keys
from optimizer.usecases.users import add_user, list_users

OPERATOR = system_principal("cli:test")


def _shop(engine: Engine) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")


def _key(
    engine: Engine, by: Principal, role: Role, label: str, user: str | None = None
) -> Principal:
    _, plaintext = create_key(engine, by, role=role, label=label, all_accounts=True, user=user)
    return authenticate(engine, plaintext)


def _propose(engine: Engine, principal: Principal) -> int:
    return propose_cap(
        engine,
        principal,
        "shop",
        period_start=dt.date(2026, 12, 1),
        period_end=dt.date(2026, 12, 31),
        amount="1000.00",
        currency="EUR",
    ).id


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("maria", "maria", id="same-label"),
        pytest.param("maria", "Maria", id="other-case"),
        pytest.param("maria", "maria ", id="trailing-space"),
        pytest.param("maria", "\uff4d\uff41\uff52\uff49\uff41", id="full-width"),
        pytest.param("Maria  Rossi", "maria rossi", id="inner-spaces"),
    ],
)
def test_two_finance_keys_of_one_person_cannot_approve_their_own_cap(
    engine: Engine, first: str, second: str
) -> None:
    _shop(engine)
    proposer = _key(engine, OPERATOR, Role.FINANCE, first)
    approver = _key(engine, OPERATOR, Role.FINANCE, second)
    assert proposer.key_id != approver.key_id
    cap_id = _propose(engine, proposer)
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        decide_cap(engine, approver, cap_id, approve=True)
    other = _key(engine, OPERATOR, Role.FINANCE, "tom")
    assert decide_cap(engine, other, cap_id, approve=True).status == "approved"


def test_an_admin_cannot_make_finance_keys_to_run_the_chain_alone(engine: Engine) -> None:
    _shop(engine)
    admin = _key(engine, OPERATOR, Role.ADMIN, "boss")
    with pytest.raises(InvalidInputError, match="'boss' is a admin user"):
        create_key(engine, admin, role=Role.FINANCE, label="boss", all_accounts=True)
    with pytest.raises(InvalidInputError, match="a person has one role"):
        create_key(engine, admin, role=Role.FINANCE, label="laptop", user="Boss", all_accounts=True)
    laptop = _key(engine, admin, Role.FINANCE, "laptop", user="maria")
    phone = _key(engine, admin, Role.FINANCE, "phone", user="maria")
    cap_id = _propose(engine, laptop)
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        decide_cap(engine, phone, cap_id, approve=True)
    with pytest.raises(PermissionDeniedError):
        decide_cap(engine, admin, cap_id, approve=True)


def test_the_creator_of_a_key_is_recorded_and_the_key_is_its_users(engine: Engine) -> None:
    admin = _key(engine, OPERATOR, Role.ADMIN, "boss")
    _key(engine, admin, Role.FINANCE, "laptop", user="Maria")
    listed = {k.label: k for k in list_keys(engine, admin)}
    assert listed["laptop"].user == "maria"
    assert listed["laptop"].created_by == admin.actor
    assert listed["boss"].created_by == "cli:test"
    people = {u.name: u for u in list_users(engine, admin)}
    assert people["maria"].role is Role.FINANCE and people["maria"].created_by == admin.actor


def test_a_key_for_an_existing_user_of_another_role_is_refused(engine: Engine) -> None:
    add_user(engine, OPERATOR, "Tom", Role.MANAGER)
    with pytest.raises(InvalidInputError, match="'tom' is a manager user"):
        create_key(
            engine, OPERATOR, role=Role.FINANCE, label="tom's", user="TOM", all_accounts=True
        )
    assert list_keys(engine, OPERATOR) == []


def test_local_operators_spelling_one_name_two_ways_are_one_person(engine: Engine) -> None:
    _shop(engine)
    cap_id = _propose(engine, system_principal("cli:maria", Role.MANAGER))
    with pytest.raises(PermissionDeniedError, match="four-eyes"):
        decide_cap(engine, system_principal("cli:Maria ", Role.FINANCE), cap_id, approve=True)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("ma\u200bria", id="zero-width-space"),
        pytest.param("\u202emaria", id="right-to-left-override"),
        pytest.param("maria\u2066", id="bidi-isolate"),
        pytest.param("ma\u00adria", id="soft-hyphen"),
        pytest.param("ma\x07ria", id="control"),
        pytest.param("   ", id="blank"),
        pytest.param("m" * 101, id="too-long"),
    ],
)
def test_a_user_name_with_hidden_characters_is_refused(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidInputError):
        add_user(engine, OPERATOR, name, Role.FINANCE)
    with pytest.raises(InvalidInputError):
        create_key(engine, OPERATOR, role=Role.FINANCE, label=name, all_accounts=True)
    assert list_users(engine, OPERATOR) == []


def test_one_name_however_spelt_is_one_user(engine: Engine) -> None:
    add_user(engine, OPERATOR, "Maria", Role.FINANCE)
    with pytest.raises(ConflictError, match="already a user named 'maria'"):
        add_user(engine, OPERATOR, " MARIA ", Role.MANAGER)


@given(st.text(max_size=30))
def test_a_user_name_is_its_own_spelling(text: str) -> None:
    try:
        name = user_name(text)
    except InvalidInputError:
        return
    assert user_name(name) == name
    assert name == name.strip() and "  " not in name
