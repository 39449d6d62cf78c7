"""Accounts: admins create them; every key lists the ones it may see."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentPrincipal, StoreEngine
from api.schemas import AccountIn, AccountOut, LocaleIn
from optimizer.usecases.accounts import Account
from optimizer.usecases.authorized import (
    account_as,
    create_account_as,
    set_locale_as,
    visible_accounts,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["accounts"])


def _out(account: Account) -> AccountOut:
    return AccountOut(
        name=account.name,
        currency=account.currency,
        timezone=account.timezone,
        locale=account.locale,
    )


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
def create(body: AccountIn, engine: StoreEngine, principal: CurrentPrincipal) -> AccountOut:
    account = create_account_as(
        engine,
        principal,
        body.name,
        currency=body.currency,
        timezone=body.timezone,
        locale=body.locale,
    )
    return _out(account)


@router.get("/accounts")
def list_(engine: StoreEngine, principal: CurrentPrincipal) -> list[AccountOut]:
    return [_out(a) for a in visible_accounts(engine, principal)]


@router.get("/accounts/{account}")
def get(account: str, engine: StoreEngine, principal: CurrentPrincipal) -> AccountOut:
    return _out(account_as(engine, principal, account))


@router.put("/accounts/{account}/locale")
def put_locale(
    account: str, body: LocaleIn, engine: StoreEngine, principal: CurrentPrincipal
) -> AccountOut:
    """Set (or clear, with null) how the account's people write amounts and dates."""
    return _out(set_locale_as(engine, principal, account, body.locale))
