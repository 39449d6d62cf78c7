"""Keys beyond the role matrix: revocation is immediate, every wrong key looks the same, and
guessing keys gets throttled (429 with Retry-After)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from optimizer.access import Role
from optimizer.errors import AuthenticationError
from optimizer.usecases import keys as keys_module
from optimizer.usecases.keys import authenticate, create_key
from tests.api.harness import ADMIN, Server, running_server, store
from tests.conftest import POSTGRES_URL

LIMIT = 5


def _wrong_keys(real: str) -> dict[str, str]:
    """A key with an unknown prefix, the real prefix with a wrong secret, and a malformed one."""
    _, prefix, secret = real.split("_", 2)
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    return {
        "unknown-prefix": f"ppc_{'0' * len(prefix)}_{secret}",
        "wrong-secret": f"ppc_{prefix}_{flipped}",
        "malformed": "not-a-key",
    }


def test_revoked_key_fails_on_the_next_request(server: Server) -> None:
    with server.client("admin") as admin:
        created = admin.post("/v1/keys", json={"role": "script", "label": "soon revoked",
                                               "accounts": ["acme"]})  # fmt: skip
        assert created.status_code == 201, created.text
        key = created.json()
        headers = {"Authorization": f"Bearer {key['key']}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as script:
            assert script.get("/v1/accounts").status_code == 200
            assert admin.delete(f"/v1/keys/{key['id']}").status_code == 204
            refused = script.get("/v1/accounts")
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"


def test_every_wrong_key_gets_the_same_answer(server: Server) -> None:
    answers = []
    for name, wrong in _wrong_keys(server.keys["manager"]).items():
        headers = {"Authorization": f"Bearer {wrong}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            response = client.get("/v1/accounts")
        assert response.status_code == 401, name
        answers.append((response.json(), response.headers.get("www-authenticate")))
    assert all(answer == answers[0] for answer in answers), answers


@pytest.mark.parametrize("kind", ["unknown-prefix", "wrong-secret"])
def test_key_check_is_constant_time(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Both failures compare a full SHA-256 digest with hmac.compare_digest (a dummy one for an
    unknown prefix), so response time does not tell which part of a key was wrong."""
    _, real = create_key(engine, ADMIN, role=Role.ADMIN, label="real")
    compared: list[tuple[str, str]] = []
    real_compare = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    with pytest.raises(AuthenticationError):
        authenticate(engine, _wrong_keys(real)[kind])
    assert len(compared) == 1
    assert all(len(side) == 64 for side in compared[0])
    assert authenticate(engine, real).role is Role.ADMIN


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server allowing LIMIT failed authentications a minute (its own: the limit is per
    client address, and every test talks from 127.0.0.1)."""
    workdir: Path = tmp_path_factory.mktemp("auth-limit")
    with store("sqlite", workdir, POSTGRES_URL) as (engine, env):
        _, admin = create_key(engine, ADMIN, role=Role.ADMIN, label="admin")
        env = {**env, "PPCOPT_AUTH_FAILURES_PER_MINUTE": str(LIMIT)}
        with running_server(env, workdir) as base:
            yield Server(base, {"admin": admin}, engine, history_end=None, env=env)  # type: ignore[arg-type]


def test_repeated_wrong_keys_are_throttled(strict_server: Server) -> None:
    wrong = _wrong_keys(strict_server.keys["admin"])["wrong-secret"]
    with strict_server.client(None, Authorization=f"Bearer {wrong}") as guesser:
        statuses = [guesser.get("/v1/accounts").status_code for _ in range(LIMIT)]
        throttled = guesser.get("/v1/accounts")
    assert statuses == [401] * LIMIT
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 61
    assert throttled.json()["error"] == "rate_limited"
    with strict_server.client("admin") as admin:
        assert admin.get("/v1/accounts").status_code == 429  # the address, not the key, waits
    with strict_server.client(None) as anonymous:
        assert anonymous.get("/healthz").status_code == 200


def _guesses_from_rotating_addresses(server: Server, count: int) -> list[int]:
    """`count` wrong keys, each claiming another client address in X-Forwarded-For."""
    wrong = _wrong_keys(server.keys["admin"])["wrong-secret"]
    statuses = []
    with server.client(None, Authorization=f"Bearer {wrong}") as guesser:
        for i in range(count):
            forwarded = {"X-Forwarded-For": f"198.51.100.{i % 250 + 1}"}
            statuses.append(guesser.get("/v1/accounts", headers=forwarded).status_code)
    return statuses


@contextmanager
def _server(tmp_path: Path, **settings: str) -> Iterator[Server]:
    """A server of its own (the limit is per client address) with `PPCOPT_*` settings."""
    with store("sqlite", tmp_path, POSTGRES_URL) as (engine, env):
        _, admin = create_key(engine, ADMIN, role=Role.ADMIN, label="admin")
        env = {**env, **{f"PPCOPT_{k.upper()}": v for k, v in settings.items()}}
        with running_server(env, tmp_path) as base:
            yield Server(base, {"admin": admin}, engine, history_end=None, env=env)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "trusted",
    [
        pytest.param(None, id="no-proxy-by-default"),
        pytest.param("192.0.2.1", id="another-proxy-listed"),
    ],
)
def test_a_forged_forwarded_for_does_not_dodge_the_limit(
    tmp_path: Path, trusted: str | None
) -> None:
    """Unless 127.0.0.1 is a listed proxy, guesses from it count against it whatever address
    they claim, so the 21st of 60 is refused."""
    settings = {} if trusted is None else {"trusted_proxies": trusted}
    with _server(tmp_path, **settings) as server:
        statuses = _guesses_from_rotating_addresses(server, 60)
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}


def test_a_listed_proxy_is_believed(tmp_path: Path) -> None:
    """Behind a listed proxy each forwarded client has its own count, and one of them locked
    out does not lock out the others."""
    with _server(tmp_path, trusted_proxies="127.0.0.1") as server:
        assert set(_guesses_from_rotating_addresses(server, 60)) == {401}
        wrong = _wrong_keys(server.keys["admin"])["wrong-secret"]
        locked = {"X-Forwarded-For": "203.0.113.9"}
        with server.client(None, Authorization=f"Bearer {wrong}", **locked) as guesser:
            statuses = [guesser.get("/v1/accounts").status_code for _ in range(21)]
        assert statuses[-1] == 429
        with server.client("admin", **{"X-Forwarded-For": "203.0.113.10"}) as other:
            assert other.get("/v1/accounts").status_code == 200
