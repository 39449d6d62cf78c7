"""The whole finance flow through a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from tests.api.harness import Server


def _cap_body(start: dt.date, days: int, amount: str, currency: str = "EUR") -> dict[str, str]:
    return {
        "period_start": start.isoformat(),
        "period_end": (start + dt.timedelta(days=days - 1)).isoformat(),
        "amount": amount,
        "currency": currency,
        "note": "December plan",
    }


def test_propose_approve_publish_pull(server: Server) -> None:
    day = server.history_end + dt.timedelta(days=1)
    with server.client("manager") as manager:
        proposed = manager.post("/v1/accounts/acme/caps", json=_cap_body(day, 10, "3000.00"))
        assert proposed.status_code == 201, proposed.text
        cap = proposed.json()
        assert cap["status"] == "proposed" and cap["amount"] == "3000.00"

        # no approved cap yet: publishing is a clear 409
        early = manager.post("/v1/accounts/acme/recommendations", json={"date": day.isoformat()})
        assert early.status_code in (409,), early.text
        assert "approved" in early.json()["detail"]

        # a manager cannot approve
        denied = manager.post(f"/v1/caps/{cap['id']}/approve")
        assert denied.status_code == 403
        assert "finance" in denied.json()["detail"]

    with server.client("finance") as finance:
        approved = finance.post(f"/v1/caps/{cap['id']}/approve", json={"note": "ok"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        again = finance.post(f"/v1/caps/{cap['id']}/reject")
        assert again.status_code == 409

    with server.client("manager") as manager:
        published = manager.post(
            "/v1/accounts/acme/recommendations", json={"date": day.isoformat()}
        )
        assert published.status_code == 201, published.text
        rec = published.json()
        assert rec["cap"]["id"] == cap["id"]
        total = sum(Decimal(r["recommended_spend"]) for r in rec["rows"])
        assert total == Decimal(rec["total_recommended"])
        assert Decimal(rec["total_recommended"]) <= Decimal(rec["budget"]) <= Decimal("3000.00")
        path = rec["forecast"]
        assert [f["date"] for f in path] == [
            (day + dt.timedelta(days=i)).isoformat() for i in range(len(path))
        ]
        assert len(path) == 10 and sum(Decimal(f["budget"]) for f in path) <= Decimal("3000.00")

    with server.client("script") as script:
        latest = script.get(
            "/v1/accounts/acme/recommendations/latest", params={"level": "campaign"}
        )
        assert latest.status_code == 200, latest.text
        body = latest.json()
        assert body["id"] == rec["id"] and body["cap"]["status"] == "approved"
        assert body["created_at"] and body["currency"] == "EUR"
        etag = latest.headers["ETag"]
        repeat = script.get(
            "/v1/accounts/acme/recommendations/latest",
            params={"level": "campaign"},
            headers={"If-None-Match": etag},
        )
        assert repeat.status_code == 304 and repeat.content == b""

        as_csv = script.get(
            "/v1/accounts/acme/recommendations/latest",
            params={"level": "campaign", "format": "csv"},
        )
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert len(rows) == len(body["rows"])
        assert {r["campaign"] for r in rows} == {r["campaign"] for r in body["rows"]}
        assert sum(Decimal(r["recommended_spend"]) for r in rows) == total
        assert as_csv.headers["ETag"] != etag

        keyword = script.get(
            "/v1/accounts/acme/recommendations/latest", params={"level": "keyword"}
        )
        assert sum(Decimal(r["recommended_spend"]) for r in keyword.json()["rows"]) == total

        # a script can neither propose nor approve; it may upload (its own account's data), so a
        # file without the required columns is refused as input, not for the role
        assert (
            script.post("/v1/accounts/acme/caps", json=_cap_body(day, 1, "1.00")).status_code == 403
        )
        assert script.post(f"/v1/caps/{cap['id']}/approve").status_code == 403
        upload = script.post(
            "/v1/accounts/acme/performance",
            content=b"date,campaign\n",
            headers={"Content-Type": "text/csv"},
        )
        assert upload.status_code == 422

    with server.client("admin") as admin:
        audit = admin.get("/v1/audit", params={"account": "acme", "limit": 1000}).json()
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("cap.propose", f"cap {cap['id']}") in actions
    assert ("cap.approve", f"cap {cap['id']}") in actions
    assert ("recommendation.publish", f"recommendation {rec['id']}") in actions
    approval = next(
        e for e in audit if e["action"] == "cap.approve" and e["target"] == f"cap {cap['id']}"
    )
    assert approval["before"]["status"] == "proposed" and approval["after"]["status"] == "approved"
    assert approval["actor"].endswith("(finance)")


def test_proposer_cannot_approve_own_cap(server: Server) -> None:
    day = server.history_end + dt.timedelta(days=40)
    with server.client("finance") as finance:
        cap = finance.post("/v1/accounts/acme/caps", json=_cap_body(day, 5, "500.00")).json()
        own = finance.post(f"/v1/caps/{cap['id']}/approve")
        assert own.status_code == 403 and "four-eyes" in own.json()["detail"]
    with server.client("finance2") as other:
        assert other.post(f"/v1/caps/{cap['id']}/approve").status_code == 200


def test_key_of_one_account_cannot_see_another(server: Server) -> None:
    with server.client("manager_b") as other:
        for path in (
            "/v1/accounts/acme",
            "/v1/accounts/acme/curves",
            "/v1/accounts/acme/caps",
            "/v1/accounts/acme/recommendations/latest",
        ):
            response = other.get(path)
            assert response.status_code == 404, (path, response.text)
        names = [a["name"] for a in other.get("/v1/accounts").json()]
        assert names == ["globex"]
    with server.client("finance_b") as other, server.client("manager") as manager:
        cap = manager.post(
            "/v1/accounts/acme/caps", json=_cap_body(server.history_end, 1, "10.00")
        ).json()
        assert other.post(f"/v1/caps/{cap['id']}/approve").status_code == 404


def test_cap_rules_are_enforced(server: Server) -> None:
    day = server.history_end
    with server.client("manager") as manager:
        for body, needle in (
            (_cap_body(day, 1, "100.00", "USD"), "billed in EUR"),
            (_cap_body(day, 1, "100.0012"), "decimals"),
            (_cap_body(day, 1, "100.001"), "reads two ways"),
            (_cap_body(day, 1, "-5"), "must not be negative"),
            (_cap_body(day, 1, "0"), "greater than zero"),
            (_cap_body(day, 400, "5"), "at most"),
            ({**_cap_body(day, 1, "5"), "period_end": "2000-01-01"}, "on or after"),
        ):
            response = manager.post("/v1/accounts/acme/caps", json=body)
            assert response.status_code == 422, body
            assert needle in response.json()["detail"]
            assert response.json()["hint"]


def test_revoked_key_fails_on_next_request(server: Server) -> None:
    with server.client("admin") as admin:
        created = admin.post(
            "/v1/keys", json={"role": "script", "label": "temp", "accounts": ["acme"]}
        ).json()
        with server.client() as anon:
            headers = {"X-API-Key": created["key"]}
            assert anon.get("/v1/accounts", headers=headers).status_code == 200
            assert admin.delete(f"/v1/keys/{created['id']}").status_code == 204
            gone = anon.get("/v1/accounts", headers=headers)
            assert gone.status_code == 401 and gone.json()["error"] == "unauthenticated"
