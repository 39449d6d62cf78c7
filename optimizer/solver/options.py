"""What the caller asks of the allocator: objective, budget and constraints, validated once here.

Amounts are exact integer micros (millionths of the currency unit), daily like the curves, from
the parser that read them to the LP's right-hand side; only the solver turns them into floats.
Fractions (`max_change`, shares, `margin`) are plain ratios: 0.2 means 20%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from optimizer.errors import InvalidInputError
from optimizer.money import MAX_AMOUNT_MICROS, validate_currency
from optimizer.schema import MICROS

__all__ = [
    "AllocationRequest",
    "Bounds",
    "Group",
    "GroupSelector",
    "Objective",
    "SharedBudget",
    "SolverName",
]

Objective = Literal["conversions", "value", "profit", "min_cost"]
SolverName = Literal["auto", "highs", "cbc"]
GroupSelector = Literal["glob", "regex", "label"]

_DEFAULT_TOLERANCE = 0.001
_DEFAULT_MAX_SEGMENTS = 24


def _check_amount(value: int | None, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what} must be whole micros (an int), got {value!r}")
    if not 0 <= value <= MAX_AMOUNT_MICROS:
        raise InvalidInputError(
            f"{what} must be between 0 and {MAX_AMOUNT_MICROS // MICROS:,}, "
            f"got {value / MICROS:,.6f}"
        )


def _check_fraction(value: float | None, what: str, *, upper: float | None = None) -> None:
    if value is None:
        return
    if not (math.isfinite(value) and value >= 0) or (upper is not None and value > upper):
        limit = f" and at most {upper:g}" if upper is not None else ""
        raise InvalidInputError(f"{what} must be a fraction >= 0{limit}, got {value}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """An absolute daily spend range for one entity or campaign, in micros; None leaves that side
    open."""

    minimum_micros: int | None = None
    maximum_micros: int | None = None

    def __post_init__(self) -> None:
        _check_amount(self.minimum_micros, "a minimum")
        _check_amount(self.maximum_micros, "a maximum")
        low, high = self.minimum_micros, self.maximum_micros
        if low is not None and high is not None and low > high:
            raise InvalidInputError(
                f"a minimum ({low / MICROS:g}) must not exceed its maximum ({high / MICROS:g})"
            )


@dataclass(frozen=True, slots=True)
class Group:
    """Campaigns limited together, e.g. brand <= 30% of spend.

    `match` selects campaigns by name: a case-insensitive glob ("brand*"), a regular expression
    searched in the name (`by="regex"`), or a label of `AllocationRequest.campaign_labels`
    (`by="label"`). Shares are of the total recommended spend.
    """

    name: str
    match: str
    by: GroupSelector = "glob"
    max_amount_micros: int | None = None
    max_share: float | None = None
    min_amount_micros: int | None = None
    min_share: float | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInputError("a group needs a name")
        if self.by not in get_args(GroupSelector):
            raise InvalidInputError(f"group '{self.name}': unknown selector '{self.by}'")
        _check_amount(self.max_amount_micros, f"group '{self.name}' max amount")
        _check_amount(self.min_amount_micros, f"group '{self.name}' min amount")
        _check_fraction(self.max_share, f"group '{self.name}' max share", upper=1.0)
        _check_fraction(self.min_share, f"group '{self.name}' min share", upper=1.0)
        limits = (self.max_amount_micros, self.max_share, self.min_amount_micros, self.min_share)
        if all(limit is None for limit in limits):
            raise InvalidInputError(f"group '{self.name}' sets no limit")
        if (
            self.min_amount_micros is not None
            and self.max_amount_micros is not None
            and self.min_amount_micros > self.max_amount_micros
        ):
            raise InvalidInputError(f"group '{self.name}': min amount exceeds max amount")
        if (
            self.min_share is not None
            and self.max_share is not None
            and self.min_share > self.max_share
        ):
            raise InvalidInputError(f"group '{self.name}': min share exceeds max share")


@dataclass(frozen=True, slots=True)
class SharedBudget:
    """Campaigns that spend one explicitly shared budget: one decision variable for the plan.

    The ad platform, not the plan, splits a shared budget among its campaigns, so the plan assumes
    the split `shares` (campaign name -> fraction, normalised to sum to 1; by default each
    campaign's share of the recent spend) and optimises the members' curves summed at that split.
    """

    name: str
    shares: Mapping[str, float]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInputError("a shared budget needs a name")
        shares = dict(self.shares)
        if len(shares) < 2:
            raise InvalidInputError(f"shared budget '{self.name}' needs at least two campaigns")
        for campaign, share in shares.items():
            if not (isinstance(share, int | float) and math.isfinite(share) and share >= 0):
                raise InvalidInputError(
                    f"shared budget '{self.name}': the share of '{campaign}' must be a number "
                    f">= 0, got {share!r}"
                )
        total = float(sum(shares.values()))
        normalised = (
            {c: float(v) / total for c, v in shares.items()}
            if total > 0
            else {c: 1.0 / len(shares) for c in shares}
        )
        object.__setattr__(self, "shares", MappingProxyType(normalised))


def _frozen(mapping: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, kw_only=True)
class AllocationRequest:
    """One allocation question: objective, total cap and constraints.

    budget_micros: the total daily cap (None: no cap, e.g. for `min_cost` or `profit`).
    objective: maximise conversions, value (conversions x value per conversion) or profit
        (value x margin - cost), or minimise cost subject to `conversions_target`.
    max_change / campaign_max_change: largest relative move from the current spend, per entity /
        per campaign. max_increase / max_decrease: the same, one way only (0.3: at most +30%).
        Both are soft: they yield to bounds a person set and, after the trust region, to the cap.
    entity_bounds: by entity_id; campaign_bounds: by campaign name.
    target_cpa_micros: the largest average cost per conversion; target_roas: the smallest value
        per unit of spend.
    locked: entity_ids whose spend stays at the current spend.
    allow_new: let entities without current spend receive budget (otherwise they stay at zero).
    conservative: optimise the low (10%) band curve instead of the fitted curve.
    tolerance: largest gap between a curve and its piecewise-linear model, as a fraction of the
        curve's value at the entity's upper bound.
    refine: solve a second, finer LP around the first answer (see `optimizer.solver.refine`).
    shared_budgets: campaigns that share one budget; each is planned as one variable (see
        `SharedBudget`).
    """

    currency: str
    budget_micros: int | None = None
    objective: Objective = "conversions"
    margin: float | None = None
    conversions_target: float | None = None
    max_change: float | None = None
    max_increase: float | None = None
    max_decrease: float | None = None
    campaign_max_change: float | None = None
    entity_bounds: Mapping[str, Bounds] = field(default_factory=dict)
    campaign_bounds: Mapping[str, Bounds] = field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    campaign_labels: Mapping[str, str] = field(default_factory=dict)
    target_cpa_micros: int | None = None
    target_roas: float | None = None
    locked: frozenset[str] = frozenset()
    allow_new: bool = False
    conservative: bool = False
    solver: SolverName = "auto"
    tolerance: float = _DEFAULT_TOLERANCE
    max_segments: int = _DEFAULT_MAX_SEGMENTS
    refine: bool = True
    shared_budgets: tuple[SharedBudget, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", validate_currency(self.currency))
        object.__setattr__(self, "entity_bounds", _frozen(self.entity_bounds))
        object.__setattr__(self, "campaign_bounds", _frozen(self.campaign_bounds))
        object.__setattr__(self, "campaign_labels", _frozen(self.campaign_labels))
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "shared_budgets", tuple(self.shared_budgets))
        object.__setattr__(self, "locked", frozenset(self.locked))
        self._validate()

    def _validate(self) -> None:
        if self.objective not in get_args(Objective):
            raise InvalidInputError(
                f"unknown objective '{self.objective}'; use one of {', '.join(get_args(Objective))}"
            )
        if self.solver not in get_args(SolverName):
            raise InvalidInputError(f"unknown solver '{self.solver}'")
        _check_amount(self.budget_micros, "the budget")
        _check_amount(self.target_cpa_micros, "the target CPA")
        if self.target_cpa_micros == 0:
            raise InvalidInputError("target CPA must be a positive amount")
        _check_fraction(self.max_change, "max_change")
        _check_fraction(self.max_increase, "max_increase")
        _check_fraction(self.max_decrease, "max_decrease")
        _check_fraction(self.campaign_max_change, "campaign_max_change")
        if self.objective == "profit" and (self.margin is None or not 0 < self.margin <= 1):
            raise InvalidInputError("the profit objective needs a margin in (0, 1]")
        if self.objective == "min_cost" and self.conversions_target is None:
            raise InvalidInputError("the min_cost objective needs a conversions_target")
        if self.conversions_target is not None and not (
            math.isfinite(self.conversions_target) and self.conversions_target > 0
        ):
            raise InvalidInputError("conversions_target must be a positive number")
        roas = self.target_roas
        if roas is not None and not (math.isfinite(roas) and roas > 0):
            raise InvalidInputError(f"target ROAS must be a positive number, got {roas}")
        for bounds in (*self.entity_bounds.values(), *self.campaign_bounds.values()):
            if not isinstance(bounds, Bounds):
                raise InvalidInputError("entity and campaign bounds must be Bounds values")
        names = [group.name for group in self.groups]
        if len(set(names)) != len(names):
            raise InvalidInputError("group names must be unique")
        _check_shared(self.shared_budgets)
        if not 1e-6 <= self.tolerance <= 0.1:
            raise InvalidInputError("tolerance must be between 1e-6 and 0.1")
        if not 1 <= self.max_segments <= 256:
            raise InvalidInputError("max_segments must be between 1 and 256")


def _check_shared(shared: tuple[SharedBudget, ...]) -> None:
    """A campaign spends one budget: it may belong to one shared budget only."""
    owner: dict[str, str] = {}
    for budget in shared:
        if not isinstance(budget, SharedBudget):
            raise InvalidInputError("shared budgets must be SharedBudget values")
        for campaign in budget.shares:
            if campaign in owner:
                raise InvalidInputError(
                    f"campaign '{campaign}' is in two shared budgets ('{owner[campaign]}' and "
                    f"'{budget.name}')"
                )
            owner[campaign] = budget.name
