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


def test_a_promotions_stated_lift_is_kept_and_checked(server: Server) -> None:
    first = server.history_end + dt.timedelta(days=3)
    body = {"start": first.isoformat(), "end": (first + dt.timedelta(days=4)).isoformat(),
            "kind": "promo", "note": "winter sale", "lift": 1.4}  # fmt: skip
    with server.client("manager") as manager:
        outage = manager.post("/v1/accounts/acme/events", json={**body, "kind": "outage"})
        assert outage.status_code == 422 and "only a promotion" in outage.json()["detail"]
        for lift in (0, 11, "1e400"):
            bad = manager.post("/v1/accounts/acme/events", json={**body, "lift": lift})
            assert bad.status_code == 422 and "lift" in bad.json()["detail"], (lift, bad.text)
        created = manager.post("/v1/accounts/acme/events", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["lift"] == 1.4
        listed = manager.get("/v1/accounts/acme/events").json()
        assert [e["lift"] for e in listed if e["id"] == created.json()["id"]] == [1.4]
        assert manager.delete(f"/v1/accounts/acme/events/{created.json()['id']}").status_code == 204
