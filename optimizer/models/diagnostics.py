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
            **{name: None if data[name] is None else float(data[name]) for name in optional},
        )


def grade(
    *,
    conversions: float,
    days: int,
    spend_cv: float,
    skill: float | None,
    pooled: str,
    flat_spend: bool = False,
) -> tuple[str, str]:
    """(grade letter, one-sentence reason) from the facts a reader can check.

    `flat_spend` says a fallback was caused by spend that barely moved rather than by too few
    conversions.
    """
    facts = (
        f"{_count(conversions, 'conversion')} over {_count(days, 'day')} with spend, "
        f"spend varied {spend_cv:.0%}"
    )
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
