"""Per-entity fit diagnostics and the A/B/C grade, with the reason in words a PPC manager reads.

A: enough conversions, spend that moved, and a holdout forecast clearly better than the average. B:
usable, but one of those is weak (or the shape leaned on the campaign). C: the curve is a guess: too
little data (campaign curve borrowed), nothing held out, or no better than
   the average on the held-out weeks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["GRADE_A", "EntityDiagnostics", "grade"]

GRADE_A = {"conversions": 100.0, "spend_cv": 0.2, "skill": 0.1}
"""What an A needs: conversions in the window, spend variation (CV) and holdout skill."""


@dataclass(frozen=True)
class EntityDiagnostics:
    """How one entity's curve came about and how far to trust it.

    `days` counts days with spend in a window of `window_days`; spend figures are over those days.
    `holdout_deviance` / `baseline_deviance` are summed over the cross-validation test days (None
    when the window was too short to hold any out); `family_deviance` has every candidate family's.
    `campaign_family` / `campaign_params` describe the campaign curve a keyword was pooled toward
    (empty for keyword-less entities).

    The click funnel: `mode` is 'funnel' when the curve is spend -> clicks (`clicks_params`, same
    family, clicks per day at calendar factor 1) times `conversion_rate` (conversions per click),
    'direct' when spend -> conversions fitted directly won; `direct_deviance` / `funnel_deviance`
    are both modes' holdout deviance (None when the mode was not tried). `rate_elasticity` is the
    campaign's estimated elasticity of the conversion rate per click to spend: the funnel is tried
    only where it is near 0, as the funnel assumes. `s_statistic` is the
    over-dispersion-scaled likelihood ratio of an S-shaped against a concave Hill curve (None when
    not tested). `budget_limited` marks spend pinned at a budget, with `budget_reason` in words;
    `budget_held` says its moves are held to a small step (its response above the budget unseen).
    """

    days: int
    window_days: int
    conversions: float
    spend_min: float
    spend_max: float
    spend_cv: float
    family: str
    params: dict[str, float]
    holdout_deviance: float | None
    baseline_deviance: float | None
    skill: float | None
    pooled: str
    grade: str
    reason: str
    family_deviance: dict[str, float] = field(default_factory=dict)
    campaign_family: str = ""
    campaign_params: dict[str, float] = field(default_factory=dict)
    mode: str = "direct"
    clicks: float = 0.0
    clicks_params: dict[str, float] = field(default_factory=dict)
    conversion_rate: float | None = None
    direct_deviance: float | None = None
    funnel_deviance: float | None = None
    s_statistic: float | None = None
    rate_elasticity: float | None = None
    budget_limited: bool = False
    budget_held: bool = False
    budget_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntityDiagnostics:
        optional = ("holdout_deviance", "baseline_deviance", "skill")
        return cls(
            days=int(data["days"]),
            window_days=int(data["window_days"]),
            conversions=float(data["conversions"]),
            spend_min=float(data["spend_min"]),
            spend_max=float(data["spend_max"]),
            spend_cv=float(data["spend_cv"]),
            family=str(data["family"]),
            params={str(k): float(v) for k, v in data["params"].items()},
            pooled=str(data["pooled"]),
            grade=str(data["grade"]),
            reason=str(data["reason"]),
            family_deviance={str(k): float(v) for k, v in data["family_deviance"].items()},
            campaign_family=str(data["campaign_family"]),
            campaign_params={str(k): float(v) for k, v in data["campaign_params"].items()},
            mode=str(data.get("mode", "direct")),
            clicks=float(data.get("clicks", 0.0)),
            clicks_params={str(k): float(v) for k, v in data.get("clicks_params", {}).items()},
            budget_limited=bool(data.get("budget_limited", False)),
            budget_held=bool(data.get("budget_held", False)),
            budget_reason=str(data.get("budget_reason", "")),
            **{name: None if data[name] is None else float(data[name]) for name in optional},
            **{
                name: None if data.get(name) is None else float(data[name])
                for name in (
                    "conversion_rate",
                    "direct_deviance",
                    "funnel_deviance",
                    "s_statistic",
                    "rate_elasticity",
                )
            },
        )


def grade(
    *,
    conversions: float,
    days: int,
    spend_cv: float,
    skill: float | None,
    pooled: str,
    flat_spend: bool = False,
    budget_limited: str = "",
    period: str = "day",
) -> tuple[str, str]:
    """(grade letter, one-sentence reason) from the facts a reader can check.

    `flat_spend` says a fallback was caused by spend that barely moved rather than by too few
    conversions. `budget_limited`, when given, is why the entity looks budget-limited: its curve
    above the budget is unseen, so the grade is C. `period` names the rows' grain.
    """
    facts = (
        f"{_count(conversions, 'conversion')} over {_count(days, period)} with spend, "
        f"spend varied {spend_cv:.0%}"
    )
    if budget_limited:
        return "C", f"C: {facts}; {budget_limited}"
    if skill is None:
        holdout = "too few days to hold any out"
    elif skill >= 0:
        holdout = f"holdout deviance {skill:.0%} below the mean-per-day baseline"
    else:
        holdout = f"holdout deviance {-skill:.0%} above the mean-per-day baseline"
    if pooled == "fallback":
        cause = "spend barely moved" if flat_spend else "too few conversions to fit alone"
        return "C", (
            f"C: {facts}; {cause}, so the campaign curve scaled to this keyword's spend share "
            "is used"
        )
    if skill is None:
        return "C", f"C: {facts}; {holdout}, so the curve is unchecked"
    if skill <= 0:
        return "C", f"C: {facts}, {holdout}; the curve does not beat the average"
    shortfalls = []
    if conversions < GRADE_A["conversions"]:
        shortfalls.append(f"fewer than {GRADE_A['conversions']:.0f} conversions")
    if spend_cv < GRADE_A["spend_cv"]:
        shortfalls.append(f"spend varied less than {GRADE_A['spend_cv']:.0%}")
    if skill < GRADE_A["skill"]:
        shortfalls.append(f"holdout gain under {GRADE_A['skill']:.0%}")
    if pooled == "shrunk":
        shortfalls.append("shape shrunk toward the campaign curve")
    if not shortfalls:
        return "A", f"A: {facts}, {holdout}"
    return "B", f"B: {facts}, {holdout} ({'; '.join(shortfalls)})"


def _count(value: float, noun: str) -> str:
    return f"{value:,.0f} {noun}" + ("" if round(value) == 1 else "s")
