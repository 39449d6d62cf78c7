"""FitOptions: every knob of the account fit in one frozen, picklable value, checked once."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from optimizer.errors import InvalidInputError
from optimizer.families import FAMILIES, NONCONCAVE_FAMILIES

__all__ = ["FitOptions"]


@dataclass(frozen=True, slots=True)
class FitOptions:
    """How curves are fitted, validated, pooled and banded (defaults suit daily data of 3-12
    months).

    Cross-validation holds out the latest `cv_splits` x `cv_test_days` days (each split trains on
    all days before its test block, which has to leave `min_train_days`). Keywords with fewer than
    `thin_conversions` conversions or a spend coefficient of variation below `thin_spend_cv` have
    their shape shrunk toward the campaign curve with `prior_strength`; below `fallback_conversions`
    or `fallback_spend_cv` they use the campaign curve scaled to their spend share. Bands come from
    `bootstrap` replicates resampling whole blocks of `block_days` days. In a campaign with at
    least `pool_min_keywords` keywords of their own (0: never), keyword elasticities are pooled
    (`shrinkage`) and the keywords share one family, chosen on their summed holdout deviance.

    `funnel`: also model spend -> clicks (shape) x clicks -> conversions (a rate per keyword,
    pooled to its campaign with `rate_prior_conversions`), tried in campaigns whose conversion rate
    per click is shown not to move with spend (its elasticity measured to within
    `rate_elasticity_tolerance` and within that of 0, allowing two standard errors); kept where
    the window's conversions agree with its shape, unless the direct curve forecasts the held-out
    days significantly better. `s_shapes`: test every entity with data
    of its own for increasing returns (quasi-likelihood ratio of an S-shaped Hill against the
    concave one above `s_test_level`, then a better holdout) and fit the S-shape where it passes.
    An entity whose spend sat flat at a budget over the last `budget_recent_days` days
    (coefficient of variation under
    `budget_flat_cv`), or lost at least `budget_lost_share` of its impressions to budget, is
    budget-limited: its trust region is +-`budget_step` around its current spend. `robust_trend`
    re-weights unusual days (Huber) when estimating the trend.
    """

    families: tuple[str, ...] = ("hill", "power", "log")
    cv_splits: int = 3
    cv_test_days: int = 14
    min_train_days: int = 28
    bootstrap: int = 30
    block_days: int = 7
    seed: int = 0
    band_quantiles: tuple[float, float] = (0.1, 0.9)
    band_points: int = 25
    trust_low_multiple: float = 0.5
    trust_high_multiple: float = 1.5
    current_days: int = 7
    thin_conversions: float = 30.0
    thin_spend_cv: float = 0.1
    fallback_conversions: float = 5.0
    fallback_spend_cv: float = 0.02
    prior_strength: float = 4.0
    value_prior_conversions: float = 10.0
    dow_ridge: float = 5.0
    trend_prior_sd_per_year: float = 0.25
    calendar_rounds: int = 2
    pool_min_keywords: int = 4
    funnel: bool = True
    rate_prior_conversions: float = 10.0
    rate_elasticity_tolerance: float = 0.1
    s_shapes: bool = True
    s_test_level: float = 3.84
    budget_step: float = 0.1
    budget_recent_days: int = 28
    budget_flat_cv: float = 0.02
    budget_lost_share: float = 0.1
    robust_trend: bool = True

    def __post_init__(self) -> None:
        if not self.families or any(f not in FAMILIES for f in self.families):
            raise InvalidInputError(
                "families must be a non-empty subset of "
                f"{', '.join(sorted(set(FAMILIES) - NONCONCAVE_FAMILIES))}"
            )
        if len(set(self.families)) != len(self.families):
            raise InvalidInputError("families must not repeat")
        if set(self.families) & NONCONCAVE_FAMILIES:
            raise InvalidInputError(
                "families are the concave candidates; S-shaped curves come from s_shapes=True, "
                "where a test finds increasing returns"
            )
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value) or value < 0:
                raise InvalidInputError(f"{item.name} must be a non-negative number, got {value}")
        for name in (
            "cv_test_days",
            "block_days",
            "band_points",
            "current_days",
            "calendar_rounds",
            "budget_recent_days",
        ):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be at least 1")
        low, high = self.band_quantiles
        if not 0 <= low < high <= 1:
            raise InvalidInputError("band_quantiles must be (low, high) with 0 <= low < high <= 1")
        if not 0 < self.trust_low_multiple <= 1 <= self.trust_high_multiple:
            raise InvalidInputError(
                "trust multiples must satisfy 0 < trust_low_multiple <= 1 <= trust_high_multiple"
            )
        if self.fallback_conversions > self.thin_conversions:
            raise InvalidInputError("fallback_conversions must not exceed thin_conversions")
        if self.fallback_spend_cv > self.thin_spend_cv:
            raise InvalidInputError("fallback_spend_cv must not exceed thin_spend_cv")
        if not 0 < self.budget_step < 1 or not 0 < self.budget_lost_share <= 1:
            raise InvalidInputError("budget_step and budget_lost_share must be fractions in (0, 1)")
