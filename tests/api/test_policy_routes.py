"""The standing plan policy over HTTP: read by every planning role, set by a manager (audited,
versioned), refused whole when it does not read, and used by the what-if that gives no budget."""

from __future__ import annotations

from decimal import Decimal

from tests.api.harness import Server

_URL = "/v1/accounts/acme/policy"


def test_the_policy_is_versioned_audited_and_set_by_managers_only(server: Server) -> None:
    with server.client("finance") as finance:
        shown = finance.get(_URL)
        assert shown.status_code == 200, shown.text
        start = shown.json()["version"]
        assert finance.put(_URL, json={"max_change": 0.2}).status_code == 403
    with server.client("script") as script:
        assert script.put(_URL, json={"max_change": 0.2}).status_code == 403
    with server.client("manager") as manager:
        put = manager.put(_URL, json={"max_change": 0.2, "groups": ["brand=brand*:100.00"]})
        assert put.status_code == 200, put.text
        body = put.json()
        assert body["version"] == start + 1 and body["max_change"] == 0.2
        assert body["max_increase"] == 0.3 and body["groups"] == ["brand=brand*:100.00"]
        assert manager.get(_URL).json()["version"] == start + 1
        reset = manager.put(_URL, json={})
        assert reset.status_code == 200 and reset.json()["version"] == start + 2
    with server.client("finance") as finance:
        entries = finance.get("/v1/audit", params={"account": "acme"}).json()
        versions = [e["after"]["version"] for e in entries if e["action"] == "policy.set"]
        assert versions[:2] == [start + 2, start + 1]


def test_a_policy_that_does_not_read_is_refused_whole(server: Server) -> None:
    with server.client("manager") as manager:
        before = manager.get(_URL).json()["version"]
        for body, words in (
            ({"groups": ["brand"]}, "group"),
            ({"objective": "clicks"}, "objective"),
            ({"target_cpa": "five euros"}, "target CPA"),
            ({"max_increase": -1}, "max_increase"),
        ):
            refused = manager.put(_URL, json=body)
            assert refused.status_code == 422, refused.text
            assert words in refused.text
        assert manager.get(_URL).json()["version"] == before


def test_a_what_if_without_a_budget_says_what_it_planned_at(server: Server) -> None:
    """The issue: `{}` returned an uncapped plan (4,165 against 1,788 current)."""
    with server.client("manager") as manager:
        answer = manager.post("/v1/accounts/acme/optimizations", json={"level": "campaign"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["budget"] is not None
        assert body["pacing"].startswith("no budget given")
        current = sum(Decimal(r["current_spend"]) for r in body["rows"])
        assert Decimal(body["total"]) <= current * Decimal("1.3") + Decimal("0.01") * len(
            body["rows"]
        )
