"""Account names over HTTP: a name a client could not put in a URL is refused at creation, so
every account that exists can be reached by its name."""

from __future__ import annotations

import pytest

from tests.api.harness import Server


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("reach/de", id="slash"),
        pytest.param("..", id="dot-dot"),
        pytest.param("reach?x=1", id="query"),
        pytest.param("reach#top", id="fragment"),
    ],
)
def test_a_name_no_url_can_carry_is_refused(server: Server, typed: str) -> None:
    body = {"name": typed, "currency": "EUR", "timezone": "UTC"}
    with server.client("admin") as admin:
        created = admin.post("/v1/accounts", json=body)
        assert created.status_code == 422, created.text
        assert "account name" in created.json()["detail"]
        assert typed not in [a["name"] for a in admin.get("/v1/accounts").json()]
