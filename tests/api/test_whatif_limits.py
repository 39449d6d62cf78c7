"""What-if limits on named campaigns over HTTP (the dashboard's what-if sends the same body):
a locked campaign keeps its current spend, a range holds a campaign's budget, unknown names and
bad amounts are refused with 422 naming them; and the Editor download of the latest plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.api.harness import Server

_URL = "/v1/accounts/acme/optimizations"


def _campaigns(server: Server) -> dict[str, Decimal]:
    with server.client("manager") as manager:
        body = manager.post(_URL, json={"budget": "900", "level": "campaign"}).json()
    return {r["campaign"]: Decimal(r["current_spend"]) for r in body["rows"]}


def test_a_locked_campaign_keeps_its_spend_and_a_range_holds(server: Server) -> None:
    spend = _campaigns(server)
    locked, ranged = sorted(spend)[:2]
    floor = (spend[ranged] * Decimal("1.1")).quantize(Decimal("0.01"))
    with server.client("finance") as finance:
        answer = finance.post(
            _URL,
            json={
                "budget": "900",
                "level": "campaign",
                "locked_campaigns": [locked],
                "campaign_bounds": {ranged: {"min": str(floor)}},
            },
        )
        assert answer.status_code == 200, answer.text
        rows = {r["campaign"]: r for r in answer.json()["rows"]}
        current = Decimal(rows[locked]["current_spend"])
        kept = Decimal(rows[locked]["recommended_spend"])
        assert current - Decimal("0.05") <= kept <= current
        assert "locked" in rows[locked]["bound"]
        assert Decimal(rows[ranged]["recommended_spend"]) >= floor - Decimal("0.05")
        frontier = finance.post(
            "/v1/accounts/acme/frontier",
            json={"budgets": ["300", "900"], "locked_campaigns": [locked]},
        )
        assert frontier.status_code == 200, frontier.text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"locked_campaigns": ["No Such Campaign"]}, "No Such Campaign"),
        ({"campaign_bounds": {"No Such Campaign": {"max": "5"}}}, "No Such Campaign"),
        ({"campaign_bounds": {"X": {"min": "ten"}}}, "campaign 'X' minimum"),
        ({"campaign_bounds": {"X": {"min": "50", "max": "10"}}}, "campaign 'X'"),
    ],
    ids=["unknown-lock", "unknown-range", "bad-amount", "min-above-max"],
)
def test_campaign_limits_that_do_not_read_are_refused(
    server: Server, body: dict[str, object], words: str
) -> None:
    with server.client("manager") as manager:
        answer = manager.post(_URL, json={"budget": "900", **body})
    assert answer.status_code == 422, answer.text
    assert words in answer.text


def test_the_latest_plan_downloads_as_a_google_ads_editor_import(server: Server) -> None:
    day = server.history_end + dt.timedelta(days=400)
    cap = {"period_start": str(day), "period_end": str(day), "amount": "800", "currency": "EUR"}
    with server.client("manager") as manager, server.client("finance") as finance:
        cap_id = manager.post("/v1/accounts/acme/caps", json=cap).json()["id"]
        assert finance.post(f"/v1/caps/{cap_id}/approve").status_code == 200
        published = manager.post("/v1/accounts/acme/recommendations", json={"date": str(day)})
        assert published.status_code == 201, published.text
    with server.client("script") as script:
        latest = script.get(
            "/v1/accounts/acme/recommendations/latest", params={"level": "campaign"}
        )
        editor = script.get("/v1/accounts/acme/recommendations/latest", params={"format": "editor"})
    assert editor.status_code == 200, editor.text
    assert "google-ads-editor.csv" in editor.headers["content-disposition"]
    lines = editor.text.splitlines()
    assert lines[0] == "Campaign,Budget"
    shown = {line.rsplit(",", 1)[0]: line.rsplit(",", 1)[1] for line in lines[1:]}
    rows = latest.json()["rows"]
    positive = {
        r["campaign"]: r["recommended_spend"] for r in rows if Decimal(r["recommended_spend"]) > 0
    }
    assert shown == positive
