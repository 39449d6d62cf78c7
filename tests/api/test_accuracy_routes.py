"""The ledger over HTTP: scores when published days have reported performance, a clear 422 when
none has yet, never a 500."""

from __future__ import annotations

from tests.api.harness import Server


def test_accuracy_before_any_published_day_is_reported_is_a_clear_422(server: Server) -> None:
    with server.client("finance") as finance:
        answer = finance.get("/v1/accounts/acme/accuracy", params={"mature_days": 0})
        assert answer.status_code == 422, answer.text
        assert "no published day" in answer.json()["detail"]
        bad = finance.get("/v1/accounts/acme/accuracy", params={"mature_days": -1})
        assert bad.status_code == 422
    with server.client("script") as script:
        assert script.get("/v1/accounts/acme/accuracy").status_code == 403
