"""The platform's structure beside a published plan's rows: one amount per shared budget, Smart
Bidding targets that match the plan's margin, what impression share lost says, keyword bids.

Only columns are added (existing scripts read the rows as before); each added value says in its
row's `*_note` why it is there or why it is advisory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.money import floor_to_minor_unit, micros_to_decimal, minor_unit_micros
from optimizer.platform.bids import fit_cpc_response, recommended_bid_micros
from optimizer.platform.structure import (
    MANUAL_BIDDING,
    TARGET_CPA_BIDDING,
    TARGET_ROAS_BIDDING,
    CampaignStructure,
    KeywordStructure,
    PlatformStructure,
)
from optimizer.schema import MICROS

__all__ = [
    "CAMPAIGN_STRUCTURE_COLUMNS",
    "KEYWORD_STRUCTURE_COLUMNS",
    "LOST_IS_THRESHOLD",
    "SHARED_SPLIT_ASSUMPTION",
    "Annotated",
    "annotate_campaigns",
    "annotate_keywords",
]

CAMPAIGN_STRUCTURE_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "budget_id",
    "budget_shared",
    "shared_budget_recommended",
    "bidding_strategy_type",
    "portfolio_strategy_id",
    "current_target_cpa",
    "suggested_target_cpa",
    "current_target_roas",
    "suggested_target_roas",
    "lost_is_budget",
    "lost_is_rank",
    "structure_note",
)
KEYWORD_STRUCTURE_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "ad_group_id",
    "keyword_id",
    "bidding_strategy_type",
    "current_cpc_bid",
    "recommended_cpc_bid",
    "bid_note",
)

LOST_IS_THRESHOLD = 0.10
"""Impression share lost (to budget or to rank) from which the plan mentions it."""

SHARED_SPLIT_ASSUMPTION = (
    "Google Ads splits a shared budget among its campaigns itself; the plan assumes each campaign "
    "keeps its share of the recent spend and sums their curves at that split"
)


@dataclass(frozen=True, slots=True)
class Annotated:
    """Rows with the structure columns, one row per shared budget, and the notes to publish."""

    rows: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    notes: list[dict[str, str]]


def annotate_campaigns(
    rows: Sequence[Mapping[str, Any]], structure: PlatformStructure, currency: str
) -> Annotated:
    """Campaign rows (with `micros`, `marginal_cpa`, `expected_value`, `expected_conversions`)
    plus the structure columns; `budgets` has one row per shared budget of the plan's campaigns."""
    by_name = {str(r["campaign"]): r for r in rows}
    shared = [b for b in structure.shared_budgets() if any(c in by_name for c in b.campaigns)]
    shared_total = {
        b.budget_id: sum(int(by_name[c]["micros"]) for c in b.campaigns if c in by_name)
        for b in shared
    }
    out = []
    for row in rows:
        found = structure.campaign(str(row["campaign"]))
        extra = dict.fromkeys(CAMPAIGN_STRUCTURE_COLUMNS)
        if found is not None:
            extra.update(_campaign_columns(row, found, shared_total, currency))
        else:
            extra["structure_note"] = "not in the structure the ad script last sent"
        out.append({**row, **extra})
    budgets: list[dict[str, Any]] = [
        {
            "budget_id": b.budget_id,
            "budget_name": b.budget_name,
            "campaigns": [c for c in b.campaigns if c in by_name],
            "campaign_ids": [i for c, i in zip(b.campaigns, b.campaign_ids, strict=True)
                             if c in by_name],
            "current_amount": str(micros_to_decimal(b.amount_micros, currency)),
            "recommended_spend": str(micros_to_decimal(shared_total[b.budget_id], currency)),
            "micros": shared_total[b.budget_id],
            "assumption": SHARED_SPLIT_ASSUMPTION,
        }
        for b in shared
    ]  # fmt: skip
    notes = [
        {
            "kind": "shared_budget",
            "text": f"shared budget '{b['budget_name']}' ({', '.join(b['campaigns'])}) is planned "
            f"as one amount, {b['recommended_spend']} {currency}: {SHARED_SPLIT_ASSUMPTION}",
        }
        for b in budgets
    ]
    notes.extend(
        {"kind": "impression_share", "text": f"{r['campaign']}: {r['structure_note']}"}
        for r in out
        if r["lost_is_rank"] is not None and r["lost_is_rank"] >= LOST_IS_THRESHOLD
    )
    return Annotated(out, budgets, notes)


def _campaign_columns(
    row: Mapping[str, Any],
    found: CampaignStructure,
    shared_total: Mapping[str, int],
    currency: str,
) -> dict[str, Any]:
    in_shared = found.budget_explicitly_shared and found.budget_id in shared_total
    target_cpa, target_roas, why = _targets(row, found, currency)
    said = [why] if why else []
    said.extend(_impression_share(found))
    if in_shared:
        said.append("shares its budget: set the shared budget once, to shared_budget_recommended")
    return {
        "campaign_id": found.campaign_id,
        "budget_id": found.budget_id,
        "budget_shared": found.budget_explicitly_shared,
        "shared_budget_recommended": (
            str(micros_to_decimal(shared_total[found.budget_id], currency)) if in_shared else None
        ),
        "bidding_strategy_type": found.bidding_strategy_type,
        "portfolio_strategy_id": found.portfolio_strategy_id or None,
        "current_target_cpa": (
            None
            if found.target_cpa_micros is None
            else str(micros_to_decimal(found.target_cpa_micros, currency))
        ),
        "suggested_target_cpa": target_cpa,
        "current_target_roas": found.target_roas,
        "suggested_target_roas": target_roas,
        "lost_is_budget": found.lost_is_budget,
        "lost_is_rank": found.lost_is_rank,
        "structure_note": "; ".join(said),
    }


def _targets(
    row: Mapping[str, Any], found: CampaignStructure, currency: str
) -> tuple[str | None, float | None, str]:
    """The target CPA (or ROAS) at which Smart Bidding would stop where the plan stops: the plan's
    marginal CPA (marginal ROAS = value per conversion / marginal CPA). A suggestion: the ad script
    sets it only when told to (APPLY_BID_TARGETS), and never on a portfolio strategy."""
    kind = found.bidding_strategy_type
    cpa = row.get("marginal_cpa")
    if kind not in TARGET_CPA_BIDDING | TARGET_ROAS_BIDDING:
        return None, None, ""
    if not isinstance(cpa, int | float) or not math.isfinite(cpa) or cpa <= 0:
        return None, None, f"{kind}: no finite marginal CPA in the plan, so no target to suggest"
    where = (
        f"portfolio strategy {found.portfolio_strategy_id}: suggestion only, change it in the "
        "shared library (it steers other campaigns too)"
        if found.portfolio_strategy_id
        else "suggestion, applied by the script only with APPLY_BID_TARGETS"
    )
    if kind in TARGET_CPA_BIDDING:
        if kind == "MAXIMIZE_CONVERSIONS" and found.target_cpa_micros is None:
            return None, None, "MAXIMIZE_CONVERSIONS without a target CPA: no target suggested"
        micros = floor_to_minor_unit(int(cpa * MICROS), currency)
        text = str(micros_to_decimal(micros, currency))
        return text, None, f"target CPA {text} = the plan's marginal CPA ({where})"
    if kind == "MAXIMIZE_CONVERSION_VALUE" and found.target_roas is None:
        return None, None, "MAXIMIZE_CONVERSION_VALUE without a target ROAS: no target suggested"
    conversions = float(row.get("expected_conversions") or 0.0)
    value = float(row.get("expected_value") or 0.0)
    if conversions <= 0 or value <= 0:
        return None, None, f"{kind}: no conversion value in the plan, so no ROAS to suggest"
    roas = math.floor(value / conversions / cpa * 100) / 100
    return None, roas, f"target ROAS {roas:.2f} = the plan's marginal ROAS ({where})"


def _impression_share(found: CampaignStructure) -> list[str]:
    said = []
    budget, rank = found.lost_is_budget, found.lost_is_rank
    if budget is not None and budget >= LOST_IS_THRESHOLD:
        said.append(
            f"loses {budget:.0%} of impression share to budget: a candidate for more budget"
        )
    if rank is not None and rank >= LOST_IS_THRESHOLD:
        said.append(
            f"loses {rank:.0%} of impression share to rank: more budget does not buy those "
            "impressions (bids, quality or ads do)"
        )
    return said


def annotate_keywords(
    rows: Sequence[Mapping[str, Any]],
    structure: PlatformStructure,
    history: Mapping[tuple[str, str, str, str], tuple[Sequence[float], Sequence[float]]],
    currency: str,
    *,
    max_change: float,
) -> list[dict[str, Any]]:
    """Keyword rows plus a max CPC bid where the ad group bids manually (MANUAL_CPC or
    ENHANCED_CPC) and the keyword has a bid and history; elsewhere `bid_note` says why not.
    `history` maps (campaign, ad group, keyword, match type) to its daily spend and clicks."""
    keywords = {
        _key(k.campaign, k.ad_group, k.keyword, k.match_type): k for k in structure.keywords
    }
    unit = minor_unit_micros(currency)
    out = []
    for row in rows:
        campaign, ad_group, keyword = (
            str(row.get(c) or "") for c in ("campaign", "ad_group", "keyword")
        )
        extra = dict.fromkeys(KEYWORD_STRUCTURE_COLUMNS)
        if not keyword:
            out.append({**row, **extra})
            continue
        match = str(row.get("match_type") or "")
        found = keywords.get(_key(campaign, ad_group, keyword, match))
        if found is None:
            extra["bid_note"] = "advisory: keyword not in the structure the ad script last sent"
        else:
            spend, clicks = history.get((campaign, ad_group, keyword, match), ((), ()))
            extra.update(_bid(row, found, spend, clicks, currency, unit, max_change))
        out.append({**row, **extra})
    return out


def _key(campaign: str, ad_group: str, keyword: str, match_type: str) -> tuple[str, ...]:
    return (campaign, ad_group, keyword.casefold(), match_type.casefold())


def _bid(
    row: Mapping[str, Any],
    found: KeywordStructure,
    spend: Sequence[float],
    clicks: Sequence[float],
    currency: str,
    unit: int,
    max_change: float,
) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "campaign_id": found.campaign_id,
        "ad_group_id": found.ad_group_id,
        "keyword_id": found.keyword_id,
        "bidding_strategy_type": found.bidding_strategy_type,
        "current_cpc_bid": (
            None
            if found.cpc_bid_micros is None
            else str(micros_to_decimal(found.cpc_bid_micros, currency))
        ),
    }
    if found.bidding_strategy_type not in MANUAL_BIDDING:
        extra["bid_note"] = (
            f"advisory: the ad group bids with {found.bidding_strategy_type}, which sets keyword "
            "bids itself; Google Ads has no keyword budgets"
        )
        return extra
    if not found.cpc_bid_micros:
        extra["bid_note"] = "advisory: the keyword has no max CPC of its own (ad group default)"
        return extra
    response = fit_cpc_response(spend, clicks)
    if response is None:
        extra["bid_note"] = "advisory: no recent day with clicks to relate CPC to spend"
        return extra
    recommended = float(row["micros"]) / MICROS
    bid = recommended_bid_micros(
        found.cpc_bid_micros, response, recommended, max_change=max_change, unit_micros=unit
    )
    extra["recommended_cpc_bid"] = str(micros_to_decimal(bid, currency))
    extra["bid_note"] = (
        f"max CPC for {micros_to_decimal(int(row['micros']), currency)} a day: "
        f"{response.describe()}, within +-{max_change:.0%} of the current bid"
    )
    return extra
