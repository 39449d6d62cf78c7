"""An account's structure as Google Ads reports it (GAQL), checked once: budgets, bidding, bids.

The ad script reads it with GAQL and posts it; these are the facts the plan needs and the curves
cannot know: which campaigns spend one explicitly shared budget
(`campaign_budget.explicitly_shared`), each campaign's bidding strategy type
(`campaign.bidding_strategy_type`) and target, whether that target lives in a portfolio strategy
(`campaign.bidding_strategy` set), the impression share lost to budget and to rank, and per keyword
its ad group's bidding type and max CPC (`ad_group_criterion.cpc_bid_micros`). Money is integer
micros, as GAQL reports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.errors import InvalidInputError

__all__ = [
    "BIDDING_TYPES",
    "MANUAL_BIDDING",
    "TARGET_CPA_BIDDING",
    "TARGET_ROAS_BIDDING",
    "CampaignStructure",
    "KeywordStructure",
    "PlatformStructure",
    "SharedBudgetStructure",
    "parse_structure",
]

BIDDING_TYPES: frozenset[str] = frozenset(
    {
        "MANUAL_CPC",
        "ENHANCED_CPC",
        "MANUAL_CPM",
        "MANUAL_CPV",
        "TARGET_CPA",
        "TARGET_ROAS",
        "MAXIMIZE_CONVERSIONS",
        "MAXIMIZE_CONVERSION_VALUE",
        "TARGET_SPEND",
        "TARGET_IMPRESSION_SHARE",
        "TARGET_CPM",
        "COMMISSION",
        "PERCENT_CPC",
        "MANUAL_CPA",
        "FIXED_CPM",
        "TARGET_CPV",
        "INVALID",
        "UNKNOWN",
        "UNSPECIFIED",
    }
)
"""`BiddingStrategyType` enum names as GAQL returns them in `campaign.bidding_strategy_type`."""

MANUAL_BIDDING: frozenset[str] = frozenset({"MANUAL_CPC", "ENHANCED_CPC"})
"""Strategies under which a keyword's own max CPC (`ad_group_criterion.cpc_bid_micros`) is used."""

TARGET_CPA_BIDDING: frozenset[str] = frozenset({"TARGET_CPA", "MAXIMIZE_CONVERSIONS"})
"""Strategies steered by a target CPA (Maximize conversions only when it has one)."""

TARGET_ROAS_BIDDING: frozenset[str] = frozenset({"TARGET_ROAS", "MAXIMIZE_CONVERSION_VALUE"})
"""Strategies steered by a target ROAS (Maximize conversion value only when it has one)."""

_MAX_MICROS = 10**15
_MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class CampaignStructure:
    """One campaign: its budget, bidding and recent impression share lost (fractions 0..1)."""

    campaign_id: str
    campaign: str
    budget_id: str
    budget_name: str
    budget_amount_micros: int
    budget_explicitly_shared: bool
    bidding_strategy_type: str
    portfolio_strategy_id: str = ""
    target_cpa_micros: int | None = None
    target_roas: float | None = None
    lost_is_budget: float | None = None
    lost_is_rank: float | None = None


@dataclass(frozen=True, slots=True)
class KeywordStructure:
    """One keyword: its ad group's (effective) bidding type and its max CPC in micros."""

    campaign_id: str
    campaign: str
    ad_group_id: str
    ad_group: str
    keyword_id: str
    keyword: str
    match_type: str
    bidding_strategy_type: str
    cpc_bid_micros: int | None = None


@dataclass(frozen=True, slots=True)
class SharedBudgetStructure:
    """An explicitly shared budget and the campaigns (names, in report order) that spend it."""

    budget_id: str
    budget_name: str
    amount_micros: int
    campaigns: tuple[str, ...]
    campaign_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlatformStructure:
    campaigns: tuple[CampaignStructure, ...]
    keywords: tuple[KeywordStructure, ...] = ()

    def campaign(self, name: str) -> CampaignStructure | None:
        return next((c for c in self.campaigns if c.campaign == name), None)

    def shared_budgets(self) -> tuple[SharedBudgetStructure, ...]:
        """Explicitly shared budgets used by two or more campaigns, in order of first use."""
        members: dict[str, list[CampaignStructure]] = {}
        for c in self.campaigns:
            if c.budget_explicitly_shared:
                members.setdefault(c.budget_id, []).append(c)
        return tuple(
            SharedBudgetStructure(
                budget_id=budget_id,
                budget_name=group[0].budget_name or budget_id,
                amount_micros=group[0].budget_amount_micros,
                campaigns=tuple(c.campaign for c in group),
                campaign_ids=tuple(c.campaign_id for c in group),
            )
            for budget_id, group in members.items()
            if len(group) >= 2
        )

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "campaigns": [_fields(c) for c in self.campaigns],
            "keywords": [_fields(k) for k in self.keywords],
        }


_INPUT_NAMES = {
    "lost_is_budget": "search_budget_lost_impression_share",
    "lost_is_rank": "search_rank_lost_impression_share",
}


def _fields(item: CampaignStructure | KeywordStructure) -> dict[str, Any]:
    """The item under the names `parse_structure` reads, so a stored structure reads back."""
    return {_INPUT_NAMES.get(name, name): getattr(item, name) for name in item.__slots__}


def parse_structure(data: Mapping[str, Any]) -> PlatformStructure:
    """Check a posted (or stored) structure; an error names the field, e.g.
    `campaigns[2].budget_amount_micros`. Campaigns naming one budget must agree on it."""
    campaigns_in = _list(data, "campaigns")
    keywords_in = _list(data, "keywords", required=False)
    campaigns = tuple(_campaign(row, f"campaigns[{i}]") for i, row in enumerate(campaigns_in))
    keywords = tuple(_keyword(row, f"keywords[{i}]") for i, row in enumerate(keywords_in))
    _check_unique([c.campaign_id for c in campaigns], "campaigns[{}].campaign_id", "campaign id")
    _check_unique([c.campaign for c in campaigns], "campaigns[{}].campaign", "campaign name")
    _check_unique(
        [f"{k.ad_group_id}~{k.keyword_id}" for k in keywords],
        "keywords[{}].keyword_id",
        "keyword (ad group id, keyword id)",
    )
    _check_budgets(campaigns)
    return PlatformStructure(campaigns, keywords)


def _list(data: Mapping[str, Any], key: str, *, required: bool = True) -> Sequence[Any]:
    if not isinstance(data, Mapping):
        raise InvalidInputError("the structure must be a JSON object with a 'campaigns' list")
    value = data.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list):
        raise InvalidInputError(f"{key}: must be a list")
    if len(value) > _MAX_ROWS:
        raise InvalidInputError(f"{key}: at most {_MAX_ROWS} entries, got {len(value)}")
    return value


def _campaign(row: Any, where: str) -> CampaignStructure:
    row = _object(row, where)
    kind = _text(row, "bidding_strategy_type", where, required=True).upper()
    if kind not in BIDDING_TYPES:
        raise InvalidInputError(
            f"{where}.bidding_strategy_type: unknown bidding strategy type '{kind}'"
        )
    return CampaignStructure(
        campaign_id=_id(row, "campaign_id", where),
        campaign=_text(row, "campaign", where, required=True),
        budget_id=_id(row, "budget_id", where),
        budget_name=_text(row, "budget_name", where),
        budget_amount_micros=_micros(row, "budget_amount_micros", where, required=True) or 0,
        budget_explicitly_shared=_flag(row, "budget_explicitly_shared", where),
        bidding_strategy_type=kind,
        portfolio_strategy_id=_id(row, "portfolio_strategy_id", where, required=False),
        target_cpa_micros=_micros(row, "target_cpa_micros", where),
        target_roas=_number(row, "target_roas", where, upper=1000.0),
        lost_is_budget=_number(row, "search_budget_lost_impression_share", where, upper=1.0),
        lost_is_rank=_number(row, "search_rank_lost_impression_share", where, upper=1.0),
    )


def _keyword(row: Any, where: str) -> KeywordStructure:
    row = _object(row, where)
    kind = _text(row, "bidding_strategy_type", where, required=True).upper()
    if kind not in BIDDING_TYPES:
        raise InvalidInputError(
            f"{where}.bidding_strategy_type: unknown bidding strategy type '{kind}'"
        )
    return KeywordStructure(
        campaign_id=_id(row, "campaign_id", where),
        campaign=_text(row, "campaign", where, required=True),
        ad_group_id=_id(row, "ad_group_id", where),
        ad_group=_text(row, "ad_group", where, required=True),
        keyword_id=_id(row, "keyword_id", where),
        keyword=_text(row, "keyword", where, required=True),
        match_type=_text(row, "match_type", where).upper(),
        bidding_strategy_type=kind,
        cpc_bid_micros=_micros(row, "cpc_bid_micros", where),
    )


def _object(row: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(row, Mapping):
        raise InvalidInputError(f"{where}: must be an object")
    return row


def _text(row: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"{where}.{key}: required")
        return ""
    if not isinstance(value, str) or len(value) > 1000:
        raise InvalidInputError(f"{where}.{key}: must be text of at most 1000 characters")
    return value


def _id(row: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    """Google Ads IDs are int64, which GAQL in scripts returns as strings; both are taken."""
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"{where}.{key}: required")
        return ""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isdigit() or len(text) > 20:
        raise InvalidInputError(f"{where}.{key}: must be a numeric Google Ads ID, got {value!r}")
    return text


def _micros(row: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"{where}.{key}: required")
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MICROS:
        raise InvalidInputError(
            f"{where}.{key}: must be whole micros (an integer from 0 to {_MAX_MICROS}), "
            f"got {value!r}"
        )
    return value


def _number(row: Mapping[str, Any], key: str, where: str, *, upper: float) -> float | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInputError(f"{where}.{key}: must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{where}.{key}: must be a number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0 <= number <= upper):
        raise InvalidInputError(f"{where}.{key}: must be between 0 and {upper:g}, got {value!r}")
    return number


def _flag(row: Mapping[str, Any], key: str, where: str) -> bool:
    value = row.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}.{key}: must be true or false, got {value!r}")
    return value


def _check_unique(values: Sequence[str], where: str, what: str) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise InvalidInputError(
                f"{where.format(i)}: {what} '{value}' appears twice (also at index {seen[value]})"
            )
        seen[value] = i


def _check_budgets(campaigns: Sequence[CampaignStructure]) -> None:
    """One budget is one amount and one sharing flag; a budget that is not explicitly shared
    belongs to one campaign only."""
    first: dict[str, tuple[int, CampaignStructure]] = {}
    for i, c in enumerate(campaigns):
        if c.budget_id not in first:
            first[c.budget_id] = (i, c)
            continue
        j, other = first[c.budget_id]
        where = f"campaigns[{i}]"
        if c.budget_amount_micros != other.budget_amount_micros:
            raise InvalidInputError(
                f"{where}.budget_amount_micros: budget {c.budget_id} has "
                f"{c.budget_amount_micros} here but {other.budget_amount_micros} at "
                f"campaigns[{j}]"
            )
        if not (c.budget_explicitly_shared and other.budget_explicitly_shared):
            raise InvalidInputError(
                f"{where}.budget_explicitly_shared: budget {c.budget_id} is used by two "
                f"campaigns (also campaigns[{j}]) but is not explicitly shared"
            )
