"""LP spend (floats) -> amounts in whole minor units (integer micros) that never break the cap.

Every amount is rounded down; then, one minor unit at a time and best marginal return first, the
group and campaign floors that rounding broke are restored and the rest of what rounding took off is
handed back, never past an entity's upper bound, an upper limit of a group or campaign, or the cap.
Bounds are already on the minor-unit grid (see `bounds`), so rounding down cannot leave them. Ratio
constraints (shares, target CPA / ROAS) move by at most one minor unit per entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.schema import MICROS
from optimizer.solver.curves import FloatArray, IntArray

__all__ = ["SpendLimit", "round_to_units"]


@dataclass(frozen=True, eq=False)
class SpendLimit:
    """A limit on the total spend of some entities (a campaign, a group), in micros."""

    members: IntArray
    lower: int | None
    upper: int | None


def round_to_units(
    spend: FloatArray,
    lower: IntArray,
    upper: IntArray,
    *,
    unit: int,
    cap: int | None,
    marginal: FloatArray,
    limits: Sequence[SpendLimit] = (),
) -> IntArray:
    """Amounts in micros, multiples of `unit`, within [lower, upper], summing to at most `cap`.

    `marginal` ranks entities: the objective gained by one more unit of spend (higher first).
    """
    exact = np.round(spend * MICROS).astype(np.int64)
    amounts = np.clip((exact // unit) * unit, lower, upper)
    uppers = [lim for lim in limits if lim.upper is not None]
    if cap is not None:
        _trim(amounts, np.arange(len(amounts)), cap, lower, marginal, unit)
    for lim in uppers:
        _trim(amounts, lim.members, int(lim.upper or 0), lower, marginal, unit)
    state = _Room(amounts, upper, unit, cap, uppers)
    for lim in limits:
        if lim.lower is not None:
            missing = lim.lower - int(amounts[lim.members].sum())
            if missing > 0:
                _give(state, lim.members, -(-missing // unit), marginal, repeat=True)
    handed_back = max((int(exact.sum()) - int(amounts.sum()) + unit // 2) // unit, 0)
    _give(state, np.flatnonzero(marginal > 0), handed_back, marginal, repeat=False)
    return amounts


def _trim(
    amounts: IntArray,
    members: IntArray,
    limit: int,
    lower: IntArray,
    marginal: FloatArray,
    unit: int,
) -> None:
    """Take whole units from the lowest-marginal members until their sum is within `limit`."""
    excess = int(amounts[members].sum()) - limit
    if excess <= 0:
        return
    order = members[np.argsort(marginal[members], kind="stable")]
    spare = (amounts[order] - lower[order]) // unit
    units = -(-excess // unit)
    before = np.cumsum(spare) - spare
    take = np.clip(units - before, 0, spare)
    amounts[order] -= take * unit


class _Room:
    """Headroom left under the cap, each entity's upper bound and each upper limit."""

    def __init__(
        self,
        amounts: IntArray,
        upper: IntArray,
        unit: int,
        cap: int | None,
        limits: Sequence[SpendLimit],
    ) -> None:
        self.amounts = amounts
        self.upper = upper
        self.unit = unit
        self.cap = None if cap is None else cap - int(amounts.sum())
        self.limit_room = [int(lim.upper or 0) - int(amounts[lim.members].sum()) for lim in limits]
        self.limits_of: dict[int, list[int]] = {}
        for index, lim in enumerate(limits):
            for member in lim.members.tolist():
                self.limits_of.setdefault(member, []).append(index)

    def take(self, entity: int) -> bool:
        unit = self.unit
        if self.amounts[entity] + unit > self.upper[entity]:
            return False
        if self.cap is not None and self.cap < unit:
            return False
        held = self.limits_of.get(entity, ())
        if any(self.limit_room[i] < unit for i in held):
            return False
        for i in held:
            self.limit_room[i] -= unit
        if self.cap is not None:
            self.cap -= unit
        self.amounts[entity] += unit
        return True


def _give(
    state: _Room, candidates: IntArray, units: int, marginal: FloatArray, *, repeat: bool
) -> None:
    """Hand out up to `units` units, one per entity per round, best marginal return first.

    Without `repeat` there is one round: no entity ends more than a unit above its rounded LP spend.
    """
    order = candidates[np.argsort(-marginal[candidates], kind="stable")].tolist()
    while units > 0 and order:
        kept = []
        for entity in order:
            if units == 0:
                break
            if state.take(entity):
                units -= 1
                kept.append(entity)
        order = kept if repeat else []
