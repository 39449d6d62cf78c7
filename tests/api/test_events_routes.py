"""Events over HTTP: a manager adds, lists, confirms and removes; finance reads; every change is
in the audit log; bad input is a 422 that names the field."""

from __future__ import annotations

import datetime as dt

from tests.api.harness import Server


def test_events_through_the_api(server: Server) -> None:
    day = server.history_end - dt.timedelta(days=20)
    body = {"start": day.isoformat(), "end": (day + dt.timedelta(days=2)).isoformat(),
            "kind": "outage", "note": "checkout down"}  # fmt: skip
    with server.client("manager") as manager:
        created = manager.post("/v1/accounts/acme/events", json=body)
        assert created.status_code == 201, created.text
        event = created.json()
        assert event["status"] == "confirmed" and event["kind"] == "outage"
        listed = manager.get("/v1/accounts/acme/events", params={"status": "confirmed"})
        assert [e["id"] for e in listed.json()] == [event["id"]]
        conflict = manager.post(f"/v1/accounts/acme/events/{event['id']}/confirm")
        assert conflict.status_code == 409
    with server.client("finance") as finance:
        assert finance.get("/v1/accounts/acme/events").status_code == 200
        assert finance.post("/v1/accounts/acme/events", json=body).status_code == 403
        audit = finance.get("/v1/audit", params={"limit": 5}).json()
        assert any(a["action"] == "event.add" for a in audit)
    with server.client("manager") as manager:
        removed = manager.delete(f"/v1/accounts/acme/events/{event['id']}")
        assert removed.status_code == 204
        assert manager.delete(f"/v1/accounts/acme/events/{event['id']}").status_code == 404


def test_bad_events_are_422_with_the_field(server: Server) -> None:
    day = server.history_end.isoformat()
    with server.client("manager") as manager:
        kind = manager.post(
            "/v1/accounts/acme/events", json={"start": day, "end": day, "kind": "holiday"}
        )
        assert kind.status_code == 422 and "kind" in kind.json()["detail"]
        backwards = manager.post(
            "/v1/accounts/acme/events",
            json={"start": day, "end": "2020-01-01", "kind": "promo"},
        )
        assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]
