"""Advertiser accounts: each has one currency and one time zone, fixed at creation, and a locale
(how its people write amounts and dates) that may be set later."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from optimizer.access import LOCAL_OPERATOR, Principal, no_such_account
from optimizer.errors import ConflictError, InvalidInputError, NotFoundError
from optimizer.locales import decimal_comma_for, validate_locale
from optimizer.money import validate_currency
from optimizer.schema import PLATFORM_LABELS
from optimizer.store.engine import transaction
from optimizer.store.tables import account_links, accounts
from optimizer.usecases.audit import record

__all__ = [
    "NAME_PUNCTUATION",
    "Account",
    "Owner",
    "account_owners",
    "create_account",
    "find_account",
    "get_account",
    "link_account",
    "link_customers",
    "list_accounts",
    "set_locale",
    "unknown_account",
]

_MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    currency: str
    timezone: str
    locale: str | None = None

    def decimal_comma(self, given: bool | None = None) -> bool | None:
        """Which decimal mark typed amounts use: what the caller said, else the locale's."""
        return given if given is not None else decimal_comma_for(self.locale)


_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.currency,
    accounts.c.timezone,
    accounts.c.locale,
)


def create_account(
    engine: Engine,
    name: str,
    *,
    currency: str,
    timezone: str,
    locale: str | None = None,
    principal: Principal = LOCAL_OPERATOR,
) -> Account:
    """Create an account; its name must be new, its currency ISO 4217, its time zone IANA and its
    locale, when given, a CLDR id. Audited in the same transaction."""
    clean_name = _validate_name(name)
    clean_currency = validate_currency(currency)
    clean_timezone = _validate_timezone(timezone)
    clean_locale = None if locale is None else validate_locale(locale)
    try:
        with transaction(engine) as connection:
            _refuse_lookalike(connection, clean_name)
            account_id = connection.execute(
                insert(accounts)
                .values(
                    name=clean_name,
                    currency=clean_currency,
                    timezone=clean_timezone,
                    locale=clean_locale,
                )
                .returning(accounts.c.id)
            ).scalar_one()
            record(
                connection,
                principal,
                "account.create",
                f"account {clean_name}",
                account_id=int(account_id),
                after={
                    "name": clean_name,
                    "currency": clean_currency,
                    "tz": clean_timezone,
                    "locale": clean_locale,
                },
            )
    except IntegrityError as exc:
        raise ConflictError(f"an account named '{clean_name}' already exists") from exc
    return Account(
        id=int(account_id),
        name=clean_name,
        currency=clean_currency,
        timezone=clean_timezone,
        locale=clean_locale,
    )


def set_locale(
    engine: Engine, name: str, locale: str | None, *, principal: Principal = LOCAL_OPERATOR
) -> Account:
    """Set (or clear, with None) the account's locale; audited in the same transaction."""
    clean = None if locale is None else validate_locale(locale)
    with transaction(engine) as connection:
        account = find_account(connection, name)
        connection.execute(update(accounts).where(accounts.c.id == account.id).values(locale=clean))
        record(
            connection,
            principal,
            "account.locale",
            f"account {account.name}",
            account_id=account.id,
            before={"locale": account.locale},
            after={"locale": clean},
        )
    return Account(account.id, account.name, account.currency, account.timezone, clean)


def get_account(engine: Engine, name: str) -> Account:
    """The account called `name`, or NotFoundError telling the user how to create it."""
    with transaction(engine) as connection:
        return find_account(connection, name)


def find_account(connection: Connection, name: str) -> Account:
    """`get_account` inside a transaction the caller already holds."""
    clean_name = name.strip()
    row = connection.execute(select(*_COLUMNS).where(accounts.c.name == clean_name)).one_or_none()
    if row is None:
        raise unknown_account(clean_name)
    return _account(row)


def unknown_account(name: str) -> NotFoundError:
    """Worded as an account outside a key's scope is (`access.no_such_account`)."""
    return no_such_account(name)


def list_accounts(engine: Engine) -> list[Account]:
    """Every account, by name (case-insensitively, the same on every backend)."""
    with transaction(engine) as connection:
        rows = connection.execute(select(*_COLUMNS)).all()
    return sorted(
        (_account(row) for row in rows), key=lambda account: (account.name.casefold(), account.name)
    )


def _account(row: Sequence[Any]) -> Account:
    account_id, name, currency, timezone, locale = row
    return Account(
        id=int(account_id), name=name, currency=currency, timezone=timezone, locale=locale
    )


NAME_PUNCTUATION = " -_.&'(),"
"""Besides letters, combining marks and digits (of any script), the characters an account name may
hold. Nothing that a URL path, a query string or a shell treats specially (`/`, `?`, `#`, `%`,
`\\`), and no control, format (zero-width, bidi override) or other invisible characters, so every
account can be named in `/v1/accounts/{account}` and looks like what it is."""


def _validate_name(name: str) -> str:
    """NFKC-normalised and trimmed, then checked against the safe set: starts with a letter or a
    digit (no `.` or `..` path segments), then letters, marks, digits and NAME_PUNCTUATION."""
    clean = unicodedata.normalize("NFKC", name).strip()
    if not clean:
        raise InvalidInputError("an account name cannot be empty")
    if len(clean) > _MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"an account name can have at most {_MAX_NAME_LENGTH} characters, not {len(clean)}"
        )
    shown = clean.encode("ascii", "backslashreplace").decode("ascii")
    if not _word_character(clean[0]):
        raise InvalidInputError(f"account name '{shown}' must start with a letter or a digit")
    bad = sorted({c for c in clean if not (_word_character(c) or c in NAME_PUNCTUATION)})
    if bad:
        listed = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in bad)
        if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in bad):
            raise InvalidInputError(
                f"account name '{shown}' contains control characters or invisible ones ({listed})"
            )
        raise InvalidInputError(
            f"account name '{shown}' has characters an account name cannot hold ({listed}); use "
            f"letters, digits, spaces and {NAME_PUNCTUATION.strip()}"
        )
    return clean


def _word_character(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" or unicodedata.category(char) == "Nd"


def _refuse_lookalike(connection: Connection, name: str) -> None:
    """'Shop' next to 'shop' reads as one account on every screen: refused as a duplicate."""
    folded = name.casefold()
    for (existing,) in connection.execute(select(accounts.c.name)):
        if unicodedata.normalize("NFKC", existing).casefold() == folded:
            raise ConflictError(
                f"an account named '{existing}' already exists (names differing only in case "
                "are one name)"
            )


def _validate_timezone(timezone: str) -> str:
    clean = timezone.strip()
    try:
        ZoneInfo(clean)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInputError(
            f"'{timezone}' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)"
        ) from None
    return clean


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose rows these are in a file: the account a row's platform customer ID is linked to,
    else the account its account-name column names (None: no such account here)."""

    account_id: int | None
    label: str
    platform: str
    customer_id: str
    account_name: str


def account_owners(connection: Connection, frame: pd.DataFrame) -> list[Owner]:
    """One `Owner` per distinct (platform, customer ID, account name) the rows carry; none for
    files without customer IDs or account names."""
    if frame.empty:
        return []
    distinct = frame.loc[:, ["platform", "customer_id", "account"]].astype(str).drop_duplicates()
    distinct = distinct[(distinct["customer_id"] != "") | (distinct["account"] != "")]
    if distinct.empty:
        return []
    links = {
        (platform, customer): int(account_id)
        for account_id, platform, customer in connection.execute(
            select(
                account_links.c.account_id, account_links.c.platform, account_links.c.customer_id
            )
        )
    }
    names = {
        name.casefold(): int(account_id)
        for account_id, name in connection.execute(select(accounts.c.id, accounts.c.name))
    }
    owners = []
    for platform, customer, name in distinct.itertuples(index=False, name=None):
        owner = links.get((platform, customer))
        if owner is None and name:
            owner = names.get(name.strip().casefold())
        label = name or f"{PLATFORM_LABELS.get(platform, platform)} customer {customer}"
        owners.append(Owner(owner, label, platform, customer, name))
    return owners


def link_customers(connection: Connection, account: Account, frame: pd.DataFrame) -> None:
    """Link the account to the platform customer IDs its stored rows carry, first time seen."""
    for owner in account_owners(connection, frame):
        if owner.customer_id and owner.account_id is None:
            connection.execute(
                insert(account_links).values(
                    account_id=account.id, platform=owner.platform, customer_id=owner.customer_id
                )
            )


def link_account(
    engine: Engine,
    name: str,
    *,
    platform: str,
    customer_id: str,
    principal: Principal = LOCAL_OPERATOR,
) -> Account:
    """Say which platform account this account is (a manager report's rows then find it)."""
    if platform not in ("google_ads", "microsoft_ads"):
        raise InvalidInputError("platform is google_ads or microsoft_ads")
    clean = customer_id.strip().replace("-", "")
    if not clean or len(clean) > 64 or not clean.isprintable():
        raise InvalidInputError(f"'{customer_id}' is not a customer / account ID")
    with transaction(engine) as connection:
        account = find_account(connection, name)
        taken = connection.execute(
            select(accounts.c.name)
            .join_from(account_links, accounts, accounts.c.id == account_links.c.account_id)
            .where(account_links.c.platform == platform, account_links.c.customer_id == clean)
        ).scalar_one_or_none()
        if taken is not None and taken != account.name:
            raise ConflictError(f"{platform} customer {clean} is already linked to '{taken}'")
        if taken is None:
            connection.execute(
                insert(account_links).values(
                    account_id=account.id, platform=platform, customer_id=clean
                )
            )
        record(
            connection,
            principal,
            "account.link",
            f"account {account.name}",
            account_id=account.id,
            after={"platform": platform, "customer_id": clean},
        )
    return account


def linked_customers(connection: Connection, account_id: int) -> int:
    return int(
        connection.execute(
            select(func.count()).where(account_links.c.account_id == account_id)
        ).scalar_one()
    )
