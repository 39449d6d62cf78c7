"""The ad script sends the account's Google Ads structure (GAQL shapes: micros, int64 IDs as
strings); a bad one is refused with the field named, a re-send changes nothing, and the next plan
sets each shared budget once and suggests Smart Bidding targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.api.harness import Server
from tests.api.test_route_roles import MATRIX_STRUCTURE

_URL = "/v1/accounts/acme/structure"


def _campaign(name: str, cid: str, budget_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "campaign_id": cid,
        "campaign": name,
        "budget_id": budget_id,
        "budget_name": f"budget {budget_id}",
        "budget_amount_micros": "50000000",
        "budget_explicitly_shared": False,
        "bidding_strategy_type": "MANUAL_CPC",
        "search_budget_lost_impression_share": 0.0,
        "search_rank_lost_impression_share": 0.0,
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"budget_amount_micros": "12.50"}, "campaigns[0].budget_amount_micros"),
        ({"budget_amount_micros": -1}, "campaigns[0].budget_amount_micros"),
        ({"bidding_strategy_type": "BID_HIGH"}, "campaigns[0].bidding_strategy_type"),
        ({"campaign_id": "abc"}, "campaigns[0].campaign_id"),
        ({"search_rank_lost_impression_share": 1.5},
         "campaigns[0].search_rank_lost_impression_share"),
        ({"budget_explicitly_shared": "yes"}, "campaigns[0].budget_explicitly_shared"),
        ({"campaign": ""}, "campaigns[0].campaign"),
    ],
    ids=["decimal-amount", "negative-amount", "unknown-strategy", "non-numeric-id",
         "share-above-one", "flag-not-bool", "no-name"],
)  # fmt: skip
def test_a_bad_structure_is_refused_with_the_field_named(
    server: Server, change: dict[str, Any], field: str
) -> None:
    body = {"campaigns": [{**_campaign("A", "1", "10"), **change}]}
    with server.client("script") as script:
        refused = script.put(_URL, json=body)
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["detail"]


def test_two_campaigns_on_one_budget_must_agree_it_is_shared(server: Server) -> None:
    body = {"campaigns": [_campaign("A", "1", "10"), _campaign("B", "2", "10")]}
    with server.client("script") as script:
        refused = script.put(_URL, json=body)
        assert refused.status_code == 422, refused.text
        assert "campaigns[1].budget_explicitly_shared" in refused.json()["detail"]
        assert script.put(_URL, json={"campaigns": "all"}).status_code == 422


def test_the_same_structure_again_changes_nothing_and_a_new_one_is_audited(
    server: Server,
) -> None:
    with server.client("script") as script:
        first = script.put(_URL, json=MATRIX_STRUCTURE)
        assert first.status_code == 200, first.text
        again = script.put(_URL, json=MATRIX_STRUCTURE)
        assert again.status_code == 200 and again.json()["changed"] is False
        assert again.json()["digest"] == first.json()["digest"]
        other = {"campaigns": [_campaign("Matrix", "1", "11")]}
        changed = script.put(_URL, json=other)
        assert changed.json()["changed"] is True
        assert script.put(_URL, json=MATRIX_STRUCTURE).json()["changed"] is True
    with server.client("finance") as finance:
        entries = finance.get("/v1/audit", params={"account": "acme"}).json()
        digests = [e["after"]["digest"] for e in entries if e["action"] == "structure.put"]
        assert digests[0] == first.json()["digest"]
        assert len(digests) >= 2


def _publish(server: Server, day: dt.date) -> dict[str, Any]:
    with server.client("manager") as manager:
        cap = manager.post(
            "/v1/accounts/acme/caps",
            json={"period_start": day.isoformat(), "period_end": day.isoformat(),
                  "amount": "100000.00", "currency": "EUR"},
        ).json()  # fmt: skip
    with server.client("finance") as finance:
        assert finance.post(f"/v1/caps/{cap['id']}/approve").status_code == 200
    with server.client("manager") as manager:
        published = manager.post(
            "/v1/accounts/acme/recommendations", json={"date": day.isoformat()}
        )
        assert published.status_code == 201, published.text
        return published.json()


def _assert_split_as_recent_spend(rows: dict[str, dict[str, Any]], members: list[str]) -> None:
    """The members of a shared budget keep their share of the recent spend (to the cent)."""
    recommended = [Decimal(rows[c]["recommended_spend"]) for c in members]
    current = [Decimal(rows[c]["current_spend"]) for c in members]
    for mine, now in zip(recommended, current, strict=True):
        expected = sum(recommended) * now / sum(current)
        assert abs(mine - expected) <= Decimal("0.05"), (recommended, current)


def test_a_plan_after_the_structure_sets_a_shared_budget_once_and_suggests_targets(
    server: Server,
) -> None:
    day = server.history_end + dt.timedelta(days=400)
    names = sorted({r["campaign"] for r in _publish(server, day)["rows"]})
    assert len(names) >= 3
    with server.client("manager") as manager:
        keyword_rows = manager.get(
            "/v1/accounts/acme/recommendations/latest", params={"level": "keyword"}
        ).json()["rows"]
    keywords = [r for r in keyword_rows if r["keyword"] and r["campaign"] in names[:3]]
    structure = {
        "campaigns": [
            _campaign(names[0], "101", "900", budget_explicitly_shared=True),
            _campaign(names[1], "102", "900", budget_explicitly_shared=True),
            _campaign(names[2], "103", "901", bidding_strategy_type="TARGET_CPA",
                      target_cpa_micros="25000000", search_rank_lost_impression_share=0.4),
        ],
        "keywords": [
            {"campaign_id": "10" + str(names.index(r["campaign"]) + 1), "campaign": r["campaign"],
             "ad_group_id": str(500 + i), "ad_group": r["ad_group"], "keyword_id": str(700 + i),
             "keyword": r["keyword"], "match_type": r["match_type"].upper(),
             "bidding_strategy_type": "TARGET_CPA" if r["campaign"] == names[2] else "MANUAL_CPC",
             "cpc_bid_micros": "1000000"}
            for i, r in enumerate(keywords)
        ],
    }  # fmt: skip
    try:
        with server.client("script") as script:
            assert script.put(_URL, json=structure).status_code == 200
        plan = _publish(server, day + dt.timedelta(days=1))
        rows = {r["campaign"]: r for r in plan["rows"]}
        [shared] = plan["budgets"]
        assert shared["budget_id"] == "900" and shared["campaigns"] == names[:2]
        members = Decimal(rows[names[0]]["recommended_spend"]) + Decimal(
            rows[names[1]]["recommended_spend"]
        )
        assert Decimal(shared["recommended_spend"]) == members
        _assert_split_as_recent_spend(rows, names[:2])
        with server.client("manager") as manager:
            what_if = manager.post(
                "/v1/accounts/acme/optimizations", json={"budget": "500.00", "level": "campaign"}
            )
            assert what_if.status_code == 200, what_if.text
        _assert_split_as_recent_spend({r["campaign"]: r for r in what_if.json()["rows"]}, names[:2])
        assert rows[names[0]]["shared_budget_recommended"] == shared["recommended_spend"]
        assert rows[names[0]]["campaign_id"] == "101"
        assert Decimal(plan["total_recommended"]) <= Decimal(plan["budget"])
        tcpa = rows[names[2]]
        assert tcpa["bidding_strategy_type"] == "TARGET_CPA"
        marginal = Decimal(str(tcpa["marginal_cpa"]))
        assert Decimal(tcpa["suggested_target_cpa"]) <= marginal
        assert marginal - Decimal(tcpa["suggested_target_cpa"]) < Decimal("0.01")
        assert "rank" in tcpa["structure_note"]
        assert any(n["kind"] == "shared_budget" for n in plan["notes"])
        with server.client("script") as script:
            latest = script.get(
                "/v1/accounts/acme/recommendations/latest",
                params={"level": "campaign", "format": "json"},
            ).json()
        assert latest["budgets"] == plan["budgets"]
        with server.client("script") as script:
            bids = script.get(
                "/v1/accounts/acme/recommendations/latest", params={"level": "keyword"}
            ).json()["rows"]
        manual = [r for r in bids if r["keyword"] and r["campaign"] in names[:2]]
        smart = [r for r in bids if r["keyword"] and r["campaign"] == names[2]]
        assert manual and smart
        for r in manual:
            assert r["recommended_cpc_bid"] is not None, r
            assert Decimal("0.80") <= Decimal(r["recommended_cpc_bid"]) <= Decimal("1.20"), r
            assert "CPC ~ spend^" in r["bid_note"] and r["keyword_id"]
        for r in smart:
            assert r["recommended_cpc_bid"] is None
            assert r["bid_note"].startswith("advisory: the ad group bids with TARGET_CPA")
    finally:
        with server.client("script") as script:
            script.put(_URL, json=MATRIX_STRUCTURE)
