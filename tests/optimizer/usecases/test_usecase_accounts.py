"""Creating, finding and listing accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from optimizer.errors import ConflictError, InvalidInputError, NotFoundError, StoreUnavailableError
from optimizer.store.engine import make_engine
from optimizer.usecases.accounts import Account, create_account, get_account, list_accounts


def test_created_account_can_be_found_and_listed(engine: Engine) -> None:
    created = create_account(engine, "Shop DE", currency="eur", timezone="Europe/Berlin")
    other = create_account(engine, "Agency", currency="JPY", timezone="Asia/Tokyo")
    assert created == Account(
        id=created.id, name="Shop DE", currency="EUR", timezone="Europe/Berlin"
    )
    assert get_account(engine, "Shop DE") == created
    assert list_accounts(engine) == [other, created]
    assert created.id != other.id


def test_surrounding_spaces_are_not_part_of_the_name(engine: Engine) -> None:
    created = create_account(engine, "  shop ", currency="EUR", timezone=" UTC ")
    assert (created.name, created.timezone) == ("shop", "UTC")
    assert get_account(engine, "shop ") == created


def test_duplicate_name_is_a_conflict(engine: Engine) -> None:
    create_account(engine, "shop", currency="EUR", timezone="Europe/Berlin")
    with pytest.raises(ConflictError, match="'shop' already exists"):
        create_account(engine, "shop", currency="USD", timezone="America/New_York")
    assert [account.currency for account in list_accounts(engine)] == ["EUR"]


@pytest.mark.parametrize(
    ("name", "currency", "timezone", "needle"),
    [
        ("shop", "EURO", "Europe/Berlin", "'EURO'"),
        ("shop", "XXX", "Europe/Berlin", "'XXX'"),
        ("shop", "EUR", "Mars/Olympus", "'Mars/Olympus'"),
        ("shop", "EUR", "Europe", "'Europe'"),
        ("shop", "EUR", "../../etc/passwd", "'../../etc/passwd'"),
        ("shop", "EUR", "", "IANA"),
        ("   ", "EUR", "UTC", "empty"),
        ("x" * 201, "EUR", "UTC", "200"),
        ("tab\there", "EUR", "UTC", "control characters"),
    ],
    ids=[
        "currency-word",
        "currency-unknown",
        "timezone-unknown",
        "timezone-folder",
        "timezone-path",
        "timezone-empty",
        "name-blank",
        "name-long",
        "name-control",
    ],
)
def test_bad_account_settings_are_invalid_and_store_nothing(
    engine: Engine, name: str, currency: str, timezone: str, needle: str
) -> None:
    with pytest.raises(InvalidInputError, match=needle.replace(".", r"\.")):
        create_account(engine, name, currency=currency, timezone=timezone)
    assert list_accounts(engine) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("shop/de", id="slash"),
        pytest.param("shop\\de", id="backslash"),
        pytest.param("shop?de", id="question-mark"),
        pytest.param("shop#de", id="hash"),
        pytest.param("shop%2Fde", id="percent"),
        pytest.param(".", id="dot"),
        pytest.param("..", id="dot-dot"),
        pytest.param("-shop", id="leading-dash"),
        pytest.param("shop<de>", id="angle-brackets"),
    ],
)
def test_an_account_name_outside_the_safe_set_is_refused(engine: Engine, name: str) -> None:
    with pytest.raises(InvalidInputError, match="account name"):
        create_account(engine, name, currency="EUR", timezone="UTC")
    assert list_accounts(engine) == []


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        pytest.param("\uff53\uff48\uff4f\uff50 \uff12", "shop 2", id="fullwidth"),
        pytest.param("Cafe\u0301", "Caf\u00e9", id="decomposed-accent"),
        pytest.param("\ufb01ne shop", "fine shop", id="ligature"),
    ],
)
def test_an_account_name_is_stored_nfkc_normalised(engine: Engine, name: str, stored: str) -> None:
    assert create_account(engine, name, currency="EUR", timezone="UTC").name == stored
    assert get_account(engine, stored).name == stored


def test_names_differing_only_in_case_are_one_name(engine: Engine) -> None:
    create_account(engine, "Shop", currency="EUR", timezone="UTC")
    with pytest.raises(ConflictError, match="'Shop' already exists"):
        create_account(engine, "shop", currency="EUR", timezone="UTC")


def test_unknown_account_says_how_to_create_it(engine: Engine) -> None:
    with pytest.raises(NotFoundError) as raised:
        get_account(engine, "nobody")
    assert "'nobody'" in raised.value.message
    assert "ppcopt accounts create" in raised.value.message


def test_listing_an_empty_store_is_empty(engine: Engine) -> None:
    assert list_accounts(engine) == []


def test_account_use_cases_report_an_unreachable_store() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    with pytest.raises(StoreUnavailableError):
        create_account(engine, "shop", currency="EUR", timezone="UTC")
    with pytest.raises(StoreUnavailableError):
        list_accounts(engine)
