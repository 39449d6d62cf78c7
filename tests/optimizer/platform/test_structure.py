"""The structure the ad script sends reads back exactly as stored, and shared budgets group."""

from __future__ import annotations

import json

from optimizer.platform.structure import parse_structure

_RAW = {
    "campaigns": [
        {"campaign_id": "1", "campaign": "A", "budget_id": "9", "budget_name": "pool",
         "budget_amount_micros": "5000000", "budget_explicitly_shared": True,
         "bidding_strategy_type": "target_cpa", "target_cpa_micros": "12000000",
         "portfolio_strategy_id": "77", "search_budget_lost_impression_share": 0.25,
         "search_rank_lost_impression_share": "0.4"},
        {"campaign_id": 2, "campaign": "B", "budget_id": "9", "budget_name": "pool",
         "budget_amount_micros": 5000000, "budget_explicitly_shared": True,
         "bidding_strategy_type": "MAXIMIZE_CONVERSION_VALUE", "target_roas": 3.5},
        {"campaign_id": "3", "campaign": "C", "budget_id": "10",
         "budget_amount_micros": 1000000, "bidding_strategy_type": "MANUAL_CPC"},
    ],
    "keywords": [
        {"campaign_id": "3", "campaign": "C", "ad_group_id": "30", "ad_group": "G",
         "keyword_id": "300", "keyword": "red shoes", "match_type": "exact",
         "bidding_strategy_type": "MANUAL_CPC", "cpc_bid_micros": "1250000"},
    ],
}  # fmt: skip


def test_a_stored_structure_reads_back_the_same() -> None:
    parsed = parse_structure(_RAW)
    again = parse_structure(json.loads(json.dumps(parsed.as_json())))
    assert again == parsed
    a = parsed.campaigns[0]
    assert (a.lost_is_budget, a.lost_is_rank, a.bidding_strategy_type) == (0.25, 0.4, "TARGET_CPA")
    assert parsed.keywords[0].cpc_bid_micros == 1_250_000


def test_explicitly_shared_budgets_group_their_campaigns() -> None:
    [shared] = parse_structure(_RAW).shared_budgets()
    assert (shared.budget_id, shared.campaigns, shared.amount_micros) == (
        "9",
        ("A", "B"),
        5_000_000,
    )
