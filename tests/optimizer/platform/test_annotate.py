"""What a plan says beside its rows once it knows the account's structure."""

from __future__ import annotations

from typing import Any

import pytest

from optimizer.platform.annotate import annotate_campaigns, annotate_keywords
from optimizer.platform.structure import parse_structure


def _campaign(name: str, cid: str, budget: str, kind: str = "MANUAL_CPC", **extra: Any) -> dict:
    return {
        "campaign_id": cid,
        "campaign": name,
        "budget_id": budget,
        "budget_name": f"b{budget}",
        "budget_amount_micros": 100_000_000,
        "bidding_strategy_type": kind,
        **extra,
    }


def _row(name: str, micros: int, cpa: float | None = 20.0) -> dict[str, Any]:
    return {
        "campaign": name,
        "micros": micros,
        "marginal_cpa": cpa,
        "expected_conversions": 5.0,
        "expected_value": 450.0,
    }


_STRUCTURE = parse_structure(
    {
        "campaigns": [
            _campaign("A", "1", "9", budget_explicitly_shared=True),
            _campaign("B", "2", "9", budget_explicitly_shared=True),
            _campaign("C", "3", "10", "TARGET_CPA", target_cpa_micros=30_000_000),
            _campaign("D", "4", "11", "TARGET_ROAS", target_roas=3.0, portfolio_strategy_id="77"),
            _campaign("E", "5", "12", "MAXIMIZE_CONVERSIONS"),
            _campaign("F", "6", "13", search_budget_lost_impression_share=0.3,
                      search_rank_lost_impression_share=0.2),
        ],
        "keywords": [
            {"campaign_id": "1", "campaign": "A", "ad_group_id": "50", "ad_group": "G",
             "keyword_id": "70", "keyword": "Red Shoes", "match_type": "EXACT",
             "bidding_strategy_type": "MANUAL_CPC", "cpc_bid_micros": 1_000_000},
        ],
    }
)  # fmt: skip


def test_a_shared_budget_is_one_row_whose_amount_is_its_campaigns_sum() -> None:
    rows = [_row("A", 60_000_000), _row("B", 40_010_000), _row("C", 10_000_000)]
    out = annotate_campaigns(rows, _STRUCTURE, "EUR")
    [budget] = out.budgets
    assert budget["micros"] == 100_010_000 and budget["recommended_spend"] == "100.01"
    assert budget["campaigns"] == ["A", "B"] and budget["campaign_ids"] == ["1", "2"]
    assert [r["shared_budget_recommended"] for r in out.rows] == ["100.01", "100.01", None]
    assert any(n["kind"] == "shared_budget" and "recent spend" in n["text"] for n in out.notes)


@pytest.mark.parametrize(
    ("name", "cpa", "field", "expected", "said"),
    [
        ("C", 22.509, "suggested_target_cpa", "22.50", "suggestion"),
        ("D", 30.0, "suggested_target_roas", 3.0, "portfolio strategy 77"),
        ("E", 20.0, "suggested_target_cpa", None, "without a target CPA"),
        ("C", None, "suggested_target_cpa", None, "no finite marginal CPA"),
    ],
    ids=["tcpa-rounded-down", "troas-portfolio-advisory", "maxconv-no-target", "no-cpa"],
)
def test_smart_bidding_targets_match_the_marginal_cpa_as_a_suggestion(
    name: str, cpa: float | None, field: str, expected: object, said: str
) -> None:
    [row] = annotate_campaigns([_row(name, 10_000_000, cpa)], _STRUCTURE, "EUR").rows
    assert row[field] == expected
    assert said in row["structure_note"]


def test_impression_share_lost_to_rank_is_not_a_budget_problem() -> None:
    out = annotate_campaigns([_row("F", 10_000_000)], _STRUCTURE, "EUR")
    note = out.rows[0]["structure_note"]
    assert "30% of impression share to budget: a candidate for more budget" in note
    assert "20% of impression share to rank: more budget does not buy" in note
    assert [n["kind"] for n in out.notes] == ["impression_share"]


def test_keyword_rows_match_names_case_insensitively_and_get_a_bid() -> None:
    row = {"campaign": "A", "ad_group": "G", "keyword": "red shoes", "match_type": "Exact",
           "micros": 12_000_000}  # fmt: skip
    history = {("A", "G", "red shoes", "Exact"): ([10.0] * 10, [10] * 10)}
    [out] = annotate_keywords([row], _STRUCTURE, history, "EUR", max_change=0.2)
    assert out["keyword_id"] == "70"
    assert out["recommended_cpc_bid"] == "1.09"  # (12/10)^0.5 = 1.095 -> rounded down
    assert "fallback" in out["bid_note"]
