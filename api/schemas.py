"""Request and response bodies. Money travels as decimal strings, dates as ISO dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from optimizer.io.dates import EARLIEST_DATE

__all__ = [
    "LAST_DAY",
    "AccountIn",
    "AccountOut",
    "AccuracyOut",
    "AllocationOut",
    "AuditOut",
    "CapDecisionIn",
    "CapIn",
    "CapOut",
    "CurveOut",
    "Day",
    "ErrorOut",
    "EventIn",
    "EventOut",
    "FitOut",
    "FrontierIn",
    "FrontierOut",
    "IngestOut",
    "IssueOut",
    "JobRunOut",
    "KeyCreatedOut",
    "KeyIn",
    "KeyOut",
    "LocaleIn",
    "OptimizationIn",
    "PerformanceRowIn",
    "PerformanceRowsIn",
    "PolicyIn",
    "PolicyOut",
    "RecommendationIn",
    "RecommendationOut",
    "SolverOptions",
]

_Strict = ConfigDict(extra="forbid")

LAST_DAY = dt.date(2099, 12, 31)

Day = Annotated[
    dt.date,
    Field(
        ge=EARLIEST_DATE,
        le=LAST_DAY,
        description=f"A day from {EARLIEST_DATE} to {LAST_DAY}.",
    ),
]
"""A day a request may name: the range the data can have (uploads refuse days before 2000) and
plans can reach, so a year 1 or 9999 is a 422 here instead of an overflow deeper in."""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


Instant = Annotated[dt.datetime, AfterValidator(_utc)]
"""A moment in time, always sent with its offset: SQLite hands back stored UTC times naive."""


class AccountIn(BaseModel):
    model_config = _Strict
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"])
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    locale: str | None = Field(default=None, min_length=2, max_length=35, examples=["de_DE"])


class LocaleIn(BaseModel):
    model_config = _Strict
    locale: str | None = Field(min_length=2, max_length=35, examples=["de_DE"])


class AccountOut(BaseModel):
    name: str
    currency: str
    timezone: str
    locale: str | None = None


class IssueOut(BaseModel):
    line: int | None
    column: str | None
    value: str | None
    message: str
    severity: str
    text: str


class ErrorOut(BaseModel):
    """Every error: what went wrong, what to do, and row issues / conflicts when there are any."""

    error: str
    detail: str
    hint: str
    issues: list[IssueOut] | None = None
    issue_count: int | None = None
    conflicts: list[str] | None = None


class IngestOut(BaseModel):
    account: str
    source_name: str
    format: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    summary: str
    errors: list[IssueOut]
    warnings: list[IssueOut]
    notes: list[str] = []


class PerformanceRowIn(BaseModel):
    """One canonical row; numbers as JSON numbers or decimal strings."""

    model_config = _Strict
    date: dt.date
    campaign: str = Field(max_length=1000)
    ad_group: str = Field(default="", max_length=1000)
    keyword: str = Field(default="", max_length=1000)
    match_type: str = Field(default="", max_length=50)
    spend: str | float
    clicks: int | str = 0
    impressions: int | str = 0
    conversions: str | float = 0
    conversion_value: str | float = 0


class PerformanceRowsIn(BaseModel):
    model_config = _Strict
    rows: list[PerformanceRowIn] = Field(max_length=100_000)


class FitOut(BaseModel):
    account: str
    version: int
    refitted: bool
    entities: int
    skipped: int
    window_start: dt.date
    window_end: dt.date
    fitted_at: Instant


class CurveOut(BaseModel):
    entity_id: str
    campaign: str
    ad_group: str
    keyword: str
    match_type: str
    family: str
    grade: str
    reason: str
    pooled: str
    current_spend: float
    trust_low: float
    trust_high: float
    days: int
    conversions: float
    skill: float | None
    mode: str = "direct"
    budget_limited: bool = False
    detail: dict[str, Any] | None = None


class SolverOptions(BaseModel):
    """The solver's options (see `ppcopt optimize --help` for their meaning)."""

    model_config = _Strict
    budget: str | None = Field(default=None, max_length=40, examples=["1500.00"])
    decimal_comma: bool | None = Field(
        default=None,
        description="How amounts here are written (1.234,50 or 1,234.50); default: the "
        "account's locale, and text that reads both ways is refused with 422.",
    )
    objective: str = Field(default="conversions", max_length=20)
    margin: float | None = Field(default=None, gt=0, le=1)
    conversions_target: float | None = Field(default=None, gt=0, le=1e12)
    max_change: float | None = Field(default=None, ge=0, le=100)
    groups: list[str] = Field(default_factory=list, max_length=200)
    target_cpa: str | None = Field(default=None, max_length=40, examples=["25.00"])
    target_roas: float | None = Field(default=None, gt=0, le=1e6)
    conservative: bool = False
    allow_new: bool = False


class AccuracyOut(BaseModel):
    """The ledger's scores (see `optimizer.accuracy.Accuracy`); null where undefined."""

    account: str
    start: dt.date
    end: dt.date
    published_days: int
    days: int
    entities: int
    predicted: float
    actual: float
    total_error: float | None
    median_abs_error: float | None
    median_abs_pct_error: float | None
    coverage_80: float
    daily_bias: float | None
    band_scale: float = Field(
        description="The account's band calibration the scores use (1: as fitted; set by "
        "`ppcopt backtest --calibrate`); plans' likely ranges use it too."
    )
    campaigns: list[dict[str, Any]]


class PolicyIn(BaseModel):
    """The account's standing limits (see `ppcopt policy set --help`); amounts as typed."""

    model_config = _Strict
    objective: str = Field(default="conversions", max_length=20)
    margin: float | None = Field(default=None, gt=0, le=1)
    max_change: float | None = Field(default=None, ge=0, le=100)
    max_increase: float | None = Field(default=0.3, ge=0, le=100)
    max_decrease: float | None = Field(default=None, ge=0, le=1)
    groups: list[str] = Field(default_factory=list, max_length=200)
    target_cpa: str | None = Field(default=None, max_length=40)
    target_roas: float | None = Field(default=None, gt=0, le=1e6)
    locked_campaigns: list[str] = Field(default_factory=list, max_length=1000)
    allow_new: bool = False
    conservative: bool = False
    decimal_comma: bool | None = None
    exploration_share: float = Field(default=0.0, ge=0, le=0.1)


class PolicyOut(BaseModel):
    account: str
    version: int
    created_at: Instant | None
    created_by: str | None
    objective: str
    margin: float | None
    max_change: float | None
    max_increase: float | None
    max_decrease: float | None
    groups: list[str]
    target_cpa: str | None
    target_roas: float | None
    locked_campaigns: list[str]
    allow_new: bool
    conservative: bool
    decimal_comma: bool | None
    exploration_share: float


class CampaignBoundsIn(BaseModel):
    """A campaign's daily spend range; a side left out is open."""

    model_config = _Strict
    min: str | None = Field(default=None, max_length=40, examples=["50.00"])
    max: str | None = Field(default=None, max_length=40, examples=["400.00"])


class CampaignLimitsIn(SolverOptions):
    """What-if limits on named campaigns: kept at current spend, or held within a range."""

    locked_campaigns: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Campaigns kept at their current spend (by name, as in the curves).",
    )
    campaign_bounds: dict[str, CampaignBoundsIn] = Field(
        default_factory=dict,
        max_length=1000,
        description='Daily spend range per campaign name, e.g. {"Brand": {"max": "400"}}.',
    )


class OptimizationIn(CampaignLimitsIn):
    date: Day | None = None
    monthly_cap: str | None = Field(default=None, max_length=40)
    level: Literal["keyword", "campaign"] = "keyword"


class FrontierIn(CampaignLimitsIn):
    date: Day | None = None
    budgets: list[str] | None = Field(default=None, max_length=200)


class AllocationOut(BaseModel):
    account: str
    date: dt.date
    currency: str
    level: str
    budget: str | None
    total: str
    expected_conversions: float
    expected_conversions_low: float
    expected_conversions_high: float
    likely_conversions_low: float = Field(
        description="The 80% range of the conversions that will be counted (calibrated curve "
        "band plus count noise); expected_conversions_low/high bound the expected value."
    )
    likely_conversions_high: float
    expected_value: float
    cap_shadow_price: float | None
    solver: str
    pacing: str | None
    notes: list[str] = Field(
        default_factory=list, description="Soft constraints relaxed to fit the budget."
    )
    curve_set_version: int
    rows: list[dict[str, Any]]


class FrontierOut(BaseModel):
    account: str
    currency: str
    points: list[dict[str, Any]]


class CapIn(BaseModel):
    model_config = _Strict
    period_start: Day
    period_end: Day
    amount: str = Field(max_length=40, examples=["30000.00"])
    currency: str = Field(min_length=3, max_length=3)
    note: str = Field(default="", max_length=2000)
    decimal_comma: bool | None = Field(
        default=None,
        description="How `amount` is written (1.234,50 or 1,234.50); default: the account's "
        "locale, and text that reads both ways is refused with 422.",
    )
    replaces: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="An approved cap this one replaces once approved (approved caps that "
        "overlap all apply, the tightest binding).",
    )


class EventIn(BaseModel):
    """A promotion, outage or stretch of days to leave out of the fit (first and last day
    included)."""

    model_config = _Strict
    start: Day
    end: Day
    kind: Literal["promo", "outage", "exclude"]
    note: str = Field(default="", max_length=2000)
    lift: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="A promotion's expected conversions per unit of spend against an ordinary "
        "day (1.4 = 40% more); period plans weigh its days by it.",
    )


class EventOut(BaseModel):
    id: int
    account: str
    start: dt.date
    end: dt.date
    kind: str
    status: str
    note: str
    created_by: str
    created_at: Instant
    decided_by: str | None
    decided_at: Instant | None
    lift: float | None = None


class CapDecisionIn(BaseModel):
    model_config = _Strict
    note: str = Field(default="", max_length=2000)


class CapOut(BaseModel):
    id: int
    account: str
    period_start: dt.date
    period_end: dt.date
    amount: str
    currency: str
    note: str
    status: str
    proposed_by: str
    proposed_at: Instant
    decided_by: str | None
    decided_at: Instant | None
    decision_note: str | None
    replaces: int | None = None
    overlaps: list[int] = Field(
        default_factory=list,
        description="Other approved caps over any of this cap's days: all apply, the tightest "
        "binds.",
    )


class RecommendationIn(SolverOptions):
    date: Day


class ForecastDayOut(BaseModel):
    date: dt.date
    budget: str


class RecommendationOut(BaseModel):
    id: int
    account: str
    date: dt.date
    level: str
    currency: str
    created_at: Instant
    created_by: str
    cap: CapOut
    budget: str
    total_recommended: str
    pacing: str
    notes: list[dict[str, str]] = Field(
        default_factory=list,
        description="What the plan must say beside its numbers: relaxed constraints "
        "(`relaxed`), a spent cap (`cap_reached`), estimated days (`pacing`), stale data "
        "(`stale_data`), the policy used (`policy`).",
    )
    forecast: list[ForecastDayOut] = Field(
        default_factory=list,
        description="The period plan's budget for each remaining day of the cap's period, "
        "tomorrow first (empty for a one-day cap).",
    )
    rows: list[dict[str, Any]] = Field(
        description="One row per campaign (or keyword). Plans made after the ad script sent the "
        "account's structure (PUT /v1/accounts/{account}/structure) add columns: campaign rows "
        "campaign_id, budget_id, budget_shared, shared_budget_recommended, "
        "bidding_strategy_type, portfolio_strategy_id, current/suggested_target_cpa, "
        "current/suggested_target_roas, lost_is_budget, lost_is_rank, structure_note; keyword "
        "rows campaign_id, ad_group_id, keyword_id, bidding_strategy_type, current_cpc_bid, "
        "recommended_cpc_bid, bid_note."
    )
    budgets: list[dict[str, Any]] = Field(
        default_factory=list,
        description="One row per explicitly shared budget: its campaigns are planned as one "
        "amount (`recommended_spend`), which the ad script sets once.",
    )


class AuditOut(BaseModel):
    id: int
    at: Instant
    actor: str
    role: str
    action: str
    account_id: int | None
    target: str
    before: Any
    after: Any


class KeyIn(BaseModel):
    model_config = _Strict
    role: Literal["admin", "manager", "finance", "script"]
    label: str = Field(min_length=1, max_length=200)
    accounts: list[str] = Field(default_factory=list, max_length=1000)
    all_accounts: bool = False
    user: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The person the key belongs to (default: the label); a new name becomes a "
        "user with this role, an existing user must have it (a person has one role).",
    )


class KeyOut(BaseModel):
    id: int
    prefix: str
    role: str
    label: str
    accounts: list[str] | None
    created_at: Instant
    revoked_at: Instant | None
    user: str
    created_by: str | None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="Shown once; store it now.")


class JobRunOut(BaseModel):
    id: int | None
    account: str
    run_key: str
    trigger: str
    scheduled_for: Instant | None
    started_at: Instant
    finished_at: Instant | None
    status: Literal["running", "succeeded", "failed", "skipped"]
    runner: str
    rows_ingested: int
    files_processed: int
    files_rejected: int
    curves_refit: bool
    curve_set_version: int | None
    recommendation_id: int | None
    error: str | None
    notes: str | None = Field(
        default=None,
        description="What the published plan had to say, one per line: stale data, days "
        "estimated, a spent cap, relaxed constraints.",
    )


class StructureIn(BaseModel):
    """The account's Google Ads structure, as the ad script reads it with GAQL (money in micros,
    IDs as strings or integers, shares lost as fractions 0..1)."""

    campaigns: list[dict[str, Any]] = Field(
        description="One object per campaign: campaign_id, campaign (name), budget_id, "
        "budget_name, budget_amount_micros, budget_explicitly_shared, bidding_strategy_type "
        "(MANUAL_CPC, ENHANCED_CPC, TARGET_CPA, TARGET_ROAS, MAXIMIZE_CONVERSIONS, ...), "
        "portfolio_strategy_id (empty unless a portfolio strategy), target_cpa_micros, "
        "target_roas, search_budget_lost_impression_share, search_rank_lost_impression_share.",
        max_length=200_000,
    )
    keywords: list[dict[str, Any]] = Field(
        default_factory=list,
        description="One object per keyword: campaign_id, campaign, ad_group_id, ad_group, "
        "keyword_id, keyword, match_type, bidding_strategy_type (the campaign's, which the ad "
        "group bids with), cpc_bid_micros (the keyword's own max CPC).",
        max_length=200_000,
    )


class StructureOut(BaseModel):
    account: str
    digest: str
    received_at: Instant
    received_by: str
    changed: bool = Field(description="false when the same structure was already stored")
    campaigns: int
    keywords: int
    shared_budgets: list[dict[str, Any]]
