"""Dashboard sign-in through an OpenID Connect identity provider (issue 20): the provider names
the person, our users table gives the role. Driven end to end against a local provider process
(tests/ui/oidc_provider.py): the dashboard's redirects are followed by an HTTP client, hop by
hop, across the two servers."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from optimizer.access import Role, system_principal
from optimizer.usecases.keys import create_key
from optimizer.usecases.users import add_user
from tests.ui.conftest import Seeded

_CLIENT_ID = "ppcopt-dashboard"
_SECRET = "test-client-secret"
_ROOT = Path(__file__).resolve().parents[2]
_ADMIN = system_principal("cli:test")


@dataclass
class Provider:
    issuer: str

    def next(self, **who: Any) -> None:
        httpx.post(f"{self.issuer}/_test/next", json=who).raise_for_status()

    def last(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.issuer}/_test/last").json()
        return answer


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.oidc_provider", "--client-id", _CLIENT_ID,
         "--client-secret", _SECRET],
        cwd=_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield Provider(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _app_client(seeded: Seeded, provider: Provider, **extra: Any) -> TestClient:
    settings = seeded.settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_client_id": _CLIENT_ID,
            "oidc_client_secret": _SECRET,
            **extra,
        }
    )
    return TestClient(create_app(type(settings).model_validate(settings.model_dump())))


def _follow(
    client: TestClient, path: str, tamper: Callable[[str], str] | None = None
) -> httpx.Response:
    """GET `path` on the dashboard and follow every redirect, to the provider and back, like a
    browser; `tamper` may rewrite the provider's redirect back to the dashboard."""
    answer = client.get(path, follow_redirects=False)
    while answer.status_code in (302, 303, 307):
        target = answer.headers["location"]
        if target.startswith("http://testserver"):
            answer = client.get(target.removeprefix("http://testserver"), follow_redirects=False)
        else:
            answer = httpx.get(target, follow_redirects=False)
            if answer.status_code in (302, 303) and tamper is not None:
                answer.headers["location"] = tamper(answer.headers["location"])
    return answer


def _user(seeded: Seeded, role: Role, *accounts: str) -> tuple[str, str]:
    """A new user; with `accounts`, a key of theirs scoped to them (what they may see)."""
    name = f"person-{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    add_user(seeded.engine, _ADMIN, name, role, email=email)
    if accounts:
        create_key(
            seeded.engine, _ADMIN, role=role, label="laptop", user=name, account_names=accounts
        )
    return name, email


def _query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return parts._replace(query=urlencode(query)).geturl()


def test_a_person_the_provider_verified_signs_in_with_their_role(
    seeded: Seeded, provider: Provider
) -> None:
    name, email = _user(seeded, Role.FINANCE, "acme")
    provider.next(sub=f"sub-{name}", email=email.upper(), email_verified=True)
    with _app_client(seeded, provider) as client:
        assert 'href="/ui/signin/oidc"' in client.get("/ui/signin").text
        done = _follow(client, "/ui/signin/oidc")
        assert done.status_code == 200 and "/ui/accounts" in done.text
        accounts = client.get("/ui/accounts")
        assert accounts.status_code == 200
        assert "/ui/accounts/acme" in accounts.text and "globex" not in accounts.text
        assert provider.last()["pkce"] == "S256 verified"
        # The sub is bound at the first sign-in: the next one finds them by sub alone.
        provider.next(sub=f"sub-{name}")
        client.cookies.clear()
        assert _follow(client, "/ui/signin/oidc").status_code == 200
        assert client.get("/ui/accounts").status_code == 200


def test_signing_out_ends_an_identity_provider_session(seeded: Seeded, provider: Provider) -> None:
    name, email = _user(seeded, Role.MANAGER)
    provider.next(sub=f"sub-{name}", email=email, email_verified=True)
    with _app_client(seeded, provider) as client:
        _follow(client, "/ui/signin/oidc")
        page = client.get("/ui/accounts")
        assert page.status_code == 200
        copied = dict(client.cookies)
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/ui/signout", data={"csrf": csrf}, follow_redirects=False)
        client.cookies.clear()
        client.cookies.update(copied)
        assert client.get("/ui/accounts").status_code == 401


@pytest.mark.parametrize(
    ("who", "words"),
    [
        pytest.param({"iss": "http://127.0.0.1:1/other"}, "refused", id="another-issuer"),
        pytest.param({"aud": "another-client"}, "refused", id="another-audience"),
        pytest.param(
            {"aud": "another-client", "azp": _CLIENT_ID}, "refused", id="another-audience-our-azp"
        ),
        pytest.param({"nonce": "replayed"}, "refused", id="wrong-nonce"),
        pytest.param({"foreign_key": True}, "refused", id="signed-by-another-key"),
        pytest.param({}, "not a user here", id="unknown-person"),
        pytest.param({"email_verified": False}, "not a user here", id="unverified-email"),
    ],
)
def test_a_bad_answer_or_an_unknown_person_is_refused(
    seeded: Seeded, provider: Provider, who: dict[str, Any], words: str
) -> None:
    name, email = _user(seeded, Role.FINANCE)
    if who:
        provider.next(**{"sub": f"sub-{name}", "email": email, "email_verified": True, **who})
    else:
        provider.next(sub=f"sub-{name}", email=f"stranger-{name}@example.com", email_verified=True)
    with _app_client(seeded, provider) as client:
        refused = _follow(client, "/ui/signin/oidc")
        assert refused.status_code == 401 and words in refused.text
        assert client.get("/ui/accounts").status_code == 401


def test_a_forged_state_is_refused(seeded: Seeded, provider: Provider) -> None:
    name, email = _user(seeded, Role.FINANCE)
    provider.next(sub=f"sub-{name}", email=email, email_verified=True)
    with _app_client(seeded, provider) as client:
        forged = _follow(
            client, "/ui/signin/oidc", tamper=lambda url: _query(url, state="forged-state")
        )
        assert forged.status_code == 401 and "MismatchingStateError" in forged.text
        assert client.get("/ui/accounts").status_code == 401


def test_a_callback_without_its_sign_in_cookie_is_refused(
    seeded: Seeded, provider: Provider
) -> None:
    """A code and state fixed by someone else's browser (login CSRF) find no state here."""
    name, email = _user(seeded, Role.FINANCE)
    provider.next(sub=f"sub-{name}", email=email, email_verified=True)
    with _app_client(seeded, provider) as attacker:
        start = attacker.get("/ui/signin/oidc", follow_redirects=False)
        back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    with _app_client(seeded, provider) as victim:
        answer = victim.get(back.removeprefix("http://testserver"))
        assert answer.status_code == 401
        assert victim.get("/ui/accounts").status_code == 401


def test_unknown_people_are_created_only_when_the_operator_allows(
    seeded: Seeded, provider: Provider
) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    provider.next(sub=f"sub-{email}", email=email, email_verified=True)
    with _app_client(seeded, provider, oidc_create_role="manager") as client:
        assert _follow(client, "/ui/signin/oidc").status_code == 200
        assert client.get("/ui/accounts").status_code == 200


def test_it_is_off_unless_configured(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.settings)) as client:
        assert 'href="/ui/signin/oidc"' not in client.get("/ui/signin").text
        assert client.get("/ui/signin/oidc", follow_redirects=False).status_code == 404
