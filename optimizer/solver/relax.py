"""Soft floors give way to the cap, in a stated order, by as little as the cap needs.

The approved cap and the bounds a person set are hard. The trust region (do not move far from the
spend the curve was fitted on) and the max-change limit are modelling and operational caution:
when their floors add up to more than the cap, the trust-region floors are lowered first, then the
max-change floors, each scaled by one common factor so the floors' total comes down exactly to the
cap (the least total relaxation, spread in proportion to each entity's floor above the harder one).
Each relaxation is named so the plan can say what gave way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.money import format_money
from optimizer.solver.curves import IntArray

__all__ = ["Relaxation", "SoftConstraint", "relax_floors"]

SoftConstraint = Literal["trust_low", "max_change"]

_NAMES: dict[SoftConstraint, str] = {
    "trust_low": "trust-region floors",
    "max_change": "max-change floors",
}


@dataclass(frozen=True, slots=True)
class Relaxation:
    """One soft constraint that gave way: which, for how many entities, by how much and why."""

    constraint: SoftConstraint
    entities: int
    relaxed_micros: int
    reason: Literal["cap", "entity_bounds"]
    text: str


def relax_floors(
    hard: IntArray,
    change: IntArray,
    trust: IntArray,
    budget_micros: int,
    *,
    unit: int,
    currency: str,
) -> tuple[IntArray, tuple[Relaxation, ...]]:
    """Floors whose total fits `budget_micros`, lowering trust floors first, then max-change ones.

    `hard <= change <= trust` element-wise (micros on the `unit` grid). When even the hard floors
    exceed the budget nothing is relaxed: that conflict is the caller's to report.
    """
    if int(trust.sum()) <= budget_micros or int(hard.sum()) > budget_micros:
        return trust, ()
    if int(change.sum()) <= budget_micros:
        lowered = _scaled(change, trust, budget_micros, unit)
        return lowered, (_named("trust_low", trust, lowered, budget_micros, currency),)
    lowered = _scaled(hard, change, budget_micros, unit)
    relaxed = [_named("trust_low", trust, change, budget_micros, currency)]
    relaxed.append(_named("max_change", change, lowered, budget_micros, currency))
    return lowered, tuple(r for r in relaxed if r.entities)


def _scaled(base: IntArray, top: IntArray, budget_micros: int, unit: int) -> IntArray:
    """`base` plus one common share of `top - base`, rounded down to the grid, summing <= budget."""
    extra = top - base
    room = budget_micros - int(base.sum())
    share = room / float(extra.sum()) if extra.sum() > 0 else 0.0
    added = np.floor(extra * share / unit).astype(np.int64) * unit
    lowered: IntArray = base + np.minimum(added, extra)
    return lowered


def _named(
    constraint: SoftConstraint,
    before: IntArray,
    after: IntArray,
    budget_micros: int,
    currency: str,
) -> Relaxation:
    lowered = before > after
    count = int(lowered.sum())
    by = int((before - after)[lowered].sum())
    noun = "entity" if count == 1 else "entities"
    text = (
        f"{_NAMES[constraint]} of {count} {noun} relaxed by {format_money(by, currency)} "
        f"to fit the cap of {format_money(budget_micros, currency)}"
    )
    return Relaxation(constraint, count, by, "cap", text)
