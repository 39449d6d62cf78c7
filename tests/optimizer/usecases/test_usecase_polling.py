"""An ad script's poll (`latest_for_key`) answers exactly as the key check followed by the full
read would, on SQLite and PostgreSQL: the same recommendation, or the same error and message."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from optimizer.access import Principal, Role, system_principal
from optimizer.errors import AuthenticationError, NotFoundError, OptimizerError
from optimizer.store.engine import make_async_reader
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.keys import authenticate, create_key, revoke_key
from optimizer.usecases.polling import PublishedRef, latest_for_key, latest_for_key_async
from optimizer.usecases.recommendations import latest, publish
from tests.api.harness import add_fitted_account, store
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS

ADMIN = system_principal("test admin")
MANAGER = Principal(role=Role.MANAGER, label="test manager")
FINANCE = Principal(role=Role.FINANCE, label="test finance")


@dataclass(frozen=True)
class Polled:
    engine: Engine
    keys: dict[str, str]
    day: dt.date
    schema: str | None = None
    """The PostgreSQL schema, where the API polls through `latest_for_key_async` too."""


def _seed(engine: Engine, workdir: Path, schema: str | None) -> Polled:
    """`shop` has a published recommendation, `empty` has none, `other` is outside the script's
    scope; keys: a script for shop and empty, an admin for everything, a revoked script."""
    add_fitted_account(engine, workdir, "shop", "EUR", "Europe/Berlin", seed=3)
    for name in ("empty", "other"):
        create_account(engine, name, currency="EUR", timezone="Europe/Berlin")
    day = dt.date.today()
    cap = propose_cap(
        engine, MANAGER, "shop", period_start=day, period_end=day + dt.timedelta(days=9),
        amount="5000.00", currency="EUR",
    )  # fmt: skip
    decide_cap(engine, FINANCE, cap.id, approve=True)
    publish(engine, MANAGER, "shop", day)
    keys = {}
    for label, role, names in (
        ("script", Role.SCRIPT, ["shop", "empty"]),
        ("admin", Role.ADMIN, []),
        ("revoked", Role.SCRIPT, ["shop"]),
        ("later-revoked", Role.SCRIPT, ["shop"]),
    ):
        record, keys[label] = create_key(
            engine, ADMIN, role=role, label=label, account_names=names, all_accounts=not names
        )
        if label == "revoked":
            revoke_key(engine, ADMIN, record.id)
        if label == "later-revoked":
            keys["later-revoked-id"] = str(record.id)
    return Polled(engine=engine, keys=keys, day=day, schema=schema)


@pytest.fixture(scope="module", params=BACKENDS)
def polled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Polled]:
    workdir = tmp_path_factory.mktemp(f"poll-{request.param}")
    with store(request.param, workdir, POSTGRES_URL) as (engine, env):
        yield _seed(engine, workdir, env.get("PPCOPT_DATABASE_SCHEMA"))


def _fast_reads(polled: Polled, key: str, account: str) -> list[object]:
    """The poll's outcome through every path the API uses on this backend."""
    reads: list[Callable[[], PublishedRef]] = [lambda: latest_for_key(polled.engine, key, account)]
    if polled.schema is not None:
        reads.append(lambda: asyncio.run(_async_read(polled.schema or "", key, account)))
    return [_ref_outcome(read) for read in reads]


def _ref_outcome(read: Callable[[], PublishedRef]) -> object:
    def pair() -> tuple[int, str]:
        ref = read()
        return ref.id, ref.etag

    return _outcome(pair)


async def _async_read(schema: str, key: str, account: str) -> PublishedRef:
    reader = make_async_reader(POSTGRES_URL, schema=schema)
    assert reader is not None
    await reader.open()
    try:
        return await latest_for_key_async(reader, key, account)
    finally:
        await reader.close()


def _full_read(engine: Engine, key: str, account: str) -> tuple[int, str]:
    rec = latest(engine, authenticate(engine, key), account)
    return rec.id, rec.etag


def _outcome(read: object) -> tuple[str, str] | tuple[int, str]:
    """(id, etag) of a successful read, or (error type, message) of a failed one."""
    try:
        return read()  # type: ignore[operator,no-any-return]
    except OptimizerError as exc:
        return type(exc).__name__, exc.message


def _key(polled: Polled, name: str) -> str:
    script = polled.keys["script"]
    prefix = script.split("_")[1]
    return {
        "malformed": "hello",
        "unknown-prefix": "ppc_00000000_" + "x" * 43,
        "wrong-secret": f"ppc_{prefix}_" + "x" * 43,
    }.get(name, polled.keys.get(name, ""))


CASES = {
    "script-own-account": ("script", "shop", None),
    "admin-any-account": ("admin", "shop", None),
    "name-with-spaces": ("script", "  shop ", None),
    "unknown-account": ("script", "nope", NotFoundError),
    "admin-unknown-account": ("admin", "nope", NotFoundError),
    "control-characters": ("admin", "\x14\U0009e466", NotFoundError),
    "outside-scope": ("script", "other", NotFoundError),
    "nothing-published": ("script", "empty", NotFoundError),
    "admin-nothing-published": ("admin", "other", NotFoundError),
    "malformed-key": ("malformed", "shop", AuthenticationError),
    "unknown-prefix": ("unknown-prefix", "shop", AuthenticationError),
    "wrong-secret": ("wrong-secret", "shop", AuthenticationError),
    "revoked-key": ("revoked", "shop", AuthenticationError),
    "revoked-key-unknown-account": ("revoked", "nope", AuthenticationError),
}


@pytest.mark.parametrize(("key_name", "account", "error"), CASES.values(), ids=CASES.keys())
def test_poll_answers_as_the_full_read(
    polled: Polled, key_name: str, account: str, error: type[OptimizerError] | None
) -> None:
    key = _key(polled, key_name)
    full = _outcome(lambda: _full_read(polled.engine, key, account))
    fast, *others = _fast_reads(polled, key, account)
    assert fast == full
    assert all(other == full for other in others)
    if error is None:
        assert isinstance(fast[0], int)
    else:
        assert fast[0] == error.__name__


def test_a_nul_in_the_account_name_fails_as_the_full_read(polled: Polled) -> None:
    """PostgreSQL refuses NUL in text (invalid input), SQLite finds no such account."""
    key, account = polled.keys["script"], "sh\x00op"
    full = _outcome(lambda: _full_read(polled.engine, key, account))
    assert all(fast == full for fast in _fast_reads(polled, key, account))
    assert full[0] in {"InvalidInputError", "NotFoundError"}


def test_out_of_scope_and_unknown_accounts_look_alike_to_the_key(polled: Polled) -> None:
    """A 404 either way, so a key cannot learn which other accounts exist."""
    key = polled.keys["script"]
    for account in ("other", "nope"):
        with pytest.raises(NotFoundError, match="no account named"):
            latest_for_key(polled.engine, key, account)


def test_next_poll_sees_a_new_recommendation_and_a_revocation(polled: Polled) -> None:
    key = polled.keys["later-revoked"]
    before = latest_for_key(polled.engine, key, "shop")
    newer = publish(polled.engine, MANAGER, "shop", polled.day + dt.timedelta(days=1))
    after = latest_for_key(polled.engine, key, "shop")
    assert (after.id, after.etag) == (newer.id, newer.etag) != (before.id, before.etag)
    assert after.principal.account_ids is not None
    revoke_key(polled.engine, ADMIN, int(polled.keys["later-revoked-id"]))
    with pytest.raises(AuthenticationError):
        latest_for_key(polled.engine, key, "shop")
