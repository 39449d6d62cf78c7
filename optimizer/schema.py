"""The canonical performance table: one row per entity and day.

An entity is a campaign, ad group or keyword with its match type.

Two shapes of the same data exist:

* the *stored* frame (`STORED_COLUMNS`): money and conversions as exact integer micros, plus the
  file's own line number for every row, as the readers produce it and the store keeps it;
* the *model* frame (`CANONICAL_COLUMNS`): floats in currency units, what curves and the solver
  consume, and what the canonical CSV looks like on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.errors import RowIssue

__all__ = [
    "CANONICAL_COLUMNS",
    "ENTITY_KEY",
    "IDENTITY_COLUMNS",
    "LOST_IS_BUDGET_COLUMN",
    "MICROS",
    "MONEY_MICROS_COLUMNS",
    "NAME_COLUMNS",
    "PLATFORM_LABELS",
    "STORED_COLUMNS",
    "EntityKey",
    "ReadResult",
    "entity_label",
    "to_model_frame",
    "with_identity",
]

MICROS = 1_000_000

NAME_COLUMNS: tuple[str, ...] = ("campaign", "ad_group", "keyword", "match_type")
ENTITY_KEY: tuple[str, ...] = NAME_COLUMNS

CANONICAL_COLUMNS: tuple[str, ...] = (
    "date",
    *NAME_COLUMNS,
    "spend",
    "clicks",
    "impressions",
    "conversions",
    "conversion_value",
)

LOST_IS_BUDGET_COLUMN = "search_lost_is_budget"
"""Optional model-frame column: Google Ads' "Search lost IS (budget)" as a fraction (0.25 for 25%);
when a history has it, the fit uses it to recognise budget-limited entities."""

MONEY_MICROS_COLUMNS: dict[str, str] = {
    "spend_micros": "spend",
    "conversions_micros": "conversions",
    "value_micros": "conversion_value",
}

IDENTITY_COLUMNS: tuple[str, ...] = (
    "platform",
    "customer_id",
    "campaign_id",
    "ad_group_id",
    "criterion_id",
)
"""Who an entity is on its ad platform ('google_ads', 'microsoft_ads' or 'other', and the
platform's IDs, '' when the file has none): names are labels that can change, IDs are not."""

PLATFORM_LABELS: dict[str, str] = {
    "google_ads": "Google Ads",
    "microsoft_ads": "Microsoft Advertising",
    "other": "other",
}

STORED_COLUMNS: tuple[str, ...] = (
    "date",
    *NAME_COLUMNS,
    "spend_micros",
    "clicks",
    "impressions",
    "conversions_micros",
    "value_micros",
    "line",
    *IDENTITY_COLUMNS,
    "account",
    "lost_is_budget",
)
"""The readers' frame: `account` names a manager (MCC) report's account ('' otherwise);
`lost_is_budget` is the share of impressions lost to the budget (NaN when not reported)."""


@dataclass(frozen=True, slots=True, order=True)
class EntityKey:
    """Identity of a campaign, ad group or keyword; empty strings mean "not at this level"."""

    campaign: str
    ad_group: str = ""
    keyword: str = ""
    match_type: str = ""

    @property
    def is_campaign_level(self) -> bool:
        return self.keyword == ""


def entity_label(key: EntityKey) -> str:
    """A human-readable one-line name for tables and logs."""
    parts = [key.campaign]
    if key.ad_group:
        parts.append(key.ad_group)
    if key.keyword:
        parts.append(f"{key.keyword} [{key.match_type}]" if key.match_type else key.keyword)
    return " / ".join(parts)


@dataclass(frozen=True)
class ReadResult:
    """What a reader returns: the valid rows (stored shape) and every problem found, by file line.

    `frame` holds only rows without errors (rows with warnings are kept). `currencies` lists the
    currency codes the file declared, if it has a currency column, so the caller can check them
    against the account's.
    """

    frame: pd.DataFrame
    format: str
    rows_read: int
    errors: tuple[RowIssue, ...] = ()
    warnings: tuple[RowIssue, ...] = ()
    currencies: frozenset[str] = field(default_factory=frozenset)

    @property
    def rejected_lines(self) -> frozenset[int]:
        return frozenset(issue.line for issue in self.errors)


def with_identity(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the identity, account and lost-IS columns, defaulted where it lacks them
    (rows built in code, JSON rows): platform 'other', IDs and account '', lost IS unknown."""
    missing = [c for c in (*IDENTITY_COLUMNS, "account", "lost_is_budget") if c not in frame]
    if not missing:
        return frame
    defaults: dict[str, str | float] = {"platform": "other", "lost_is_budget": np.nan}
    columns = {column: [defaults.get(column, "")] * len(frame) for column in missing}
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)


def to_model_frame(stored: pd.DataFrame) -> pd.DataFrame:
    """Stored shape (integer micros) -> model shape (floats in currency units), canonical order;
    with the lost-IS (budget) share when the rows report it."""
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(stored["date"]).astype("datetime64[ns]"),
            **{name: stored[name].astype(str) for name in NAME_COLUMNS},
            "spend": stored["spend_micros"].to_numpy(dtype=np.float64) / MICROS,
            "clicks": stored["clicks"].to_numpy(dtype=np.int64),
            "impressions": stored["impressions"].to_numpy(dtype=np.int64),
            "conversions": stored["conversions_micros"].to_numpy(dtype=np.float64) / MICROS,
            "conversion_value": stored["value_micros"].to_numpy(dtype=np.float64) / MICROS,
        }
    )
    columns = list(CANONICAL_COLUMNS)
    if "lost_is_budget" in stored.columns:
        lost = stored["lost_is_budget"].to_numpy(dtype=np.float64)
        if not np.isnan(lost).all():
            out[LOST_IS_BUDGET_COLUMN] = lost
            columns.append(LOST_IS_BUDGET_COLUMN)
    return out.loc[:, columns]
