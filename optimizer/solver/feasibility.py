"""Infeasibility caught before solving, explained in the user's terms and naming the constraints.

Each check compares what a constraint needs with what the others allow at best: the sum of the
entities' minimums with the cap, a campaign's or group's limits with its entities' ranges, a target
CPA / ROAS / conversion target with the best the segments can reach within the entity bounds and the
cap (fill the segments in order of their ratio: exact for those constraints, and optimistic once
campaign or group rows are added, so it never rejects a feasible request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from optimizer.errors import InfeasibleError
from optimizer.schema import MICROS
from optimizer.solver.bounds import EntityBounds
from optimizer.solver.curves import FloatArray, IntArray
from optimizer.solver.groups import ResolvedGroup
from optimizer.solver.model import Baseline, group_amount_limits
from optimizer.solver.options import AllocationRequest
from optimizer.solver.text import amount, ratio

__all__ = ["best_cpa", "best_roas", "check_feasible", "most_conversions"]

_SLACK = 1e-9
_FLOOR_NAMES = {
    "entity_min": "entity minimums",
    "max_change": "max-change floors",
    "trust_low": "trust-region floors",
    "locked": "locked spend",
}


def _least_ratio(
    base_num: float, base_den: float, num: FloatArray, den: FloatArray, room: float
) -> float:
    """min (base_num + sum num) / (base_den + sum den) over fractional segment picks with
    sum num <= room, segments taken in ascending num/den order (keeps each entity's order)."""
    useful = den > 0
    num, den = num[useful], den[useful]
    order = np.argsort(num / den, kind="stable")
    num, den = num[order], den[order]
    spent, gained = np.cumsum(num), np.cumsum(den)
    fits = int(np.searchsorted(spent, room * (1 + _SLACK) + _SLACK, side="right"))
    nums = [base_num, *(base_num + spent[:fits])]
    dens = [base_den, *(base_den + gained[:fits])]
    if fits < len(num) and np.isfinite(room):
        used = spent[fits - 1] if fits else 0.0
        share = max(room - used, 0.0) / num[fits]
        nums.append(base_num + used + share * num[fits])
        dens.append(base_den + (gained[fits - 1] if fits else 0.0) + share * den[fits])
    top, bottom = np.asarray(nums), np.asarray(dens)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(bottom > 0, top / bottom, np.inf)
    return float(ratios.min())


def best_cpa(base: Baseline, room: float) -> float:
    """Lowest cost per conversion reachable within entity bounds and `room` above the minimums."""
    return _least_ratio(
        base.spend, base.conversions, base.column_spend, base.column_conversions, room
    )


def best_roas(base: Baseline, room: float) -> float:
    """Highest value / cost reachable within entity bounds and `room` above the minimums."""
    least = _least_ratio(base.spend, base.value, base.column_spend, base.column_value, room)
    return 0.0 if least == np.inf else 1.0 / least


def most_conversions(base: Baseline, room: float) -> float:
    """Most conversions reachable within entity bounds and `room` above the minimums."""
    cost, gain = base.column_spend, base.column_conversions
    order = np.argsort(-gain / np.maximum(cost, 1e-300), kind="stable")
    spent = np.cumsum(cost[order])
    fits = int(np.searchsorted(spent, room * (1 + _SLACK) + _SLACK, side="right"))
    total = base.conversions + float(gain[order][:fits].sum())
    if fits < len(cost) and np.isfinite(room):
        used = spent[fits - 1] if fits else 0.0
        total += max(room - used, 0.0) / cost[order][fits] * gain[order][fits]
    return total


class _Conflicts:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.messages: list[str] = []
        self.names: list[str] = []

    def money(self, micros: float) -> str:
        return amount(micros / MICROS, self.currency)

    def add(self, message: str, *names: str) -> None:
        self.messages.append(message)
        self.names.extend(name for name in names if name not in self.names)


def check_feasible(
    request: AllocationRequest,
    table: pd.DataFrame,
    bounds: EntityBounds,
    base: Baseline,
    groups: Sequence[ResolvedGroup],
    campaign_limits: Mapping[str, tuple[int, int | None]],
    budget_micros: int | None,
) -> None:
    """Raise InfeasibleError listing every conflict these checks find; return quietly otherwise."""
    found = _Conflicts(request.currency)
    lower, upper = bounds.lower_micros, bounds.upper_micros
    floor_total = int(lower.sum())
    cap = np.inf if budget_micros is None else float(budget_micros)
    if floor_total > cap:
        _cap_below_minimums(found, bounds, cap)
    _campaigns(found, table, lower, upper, campaign_limits, cap)
    for resolved in groups:
        _group(found, resolved, lower, upper, cap, bounds.unit)
    _disjoint_floors(found, groups, cap)
    if not found.messages:
        _targets(found, request, base, (cap - floor_total) / MICROS)
    if found.messages:
        raise InfeasibleError("; ".join(found.messages), conflicts=found.names)


def _cap_below_minimums(found: _Conflicts, bounds: EntityBounds, cap: float) -> None:
    lower = bounds.lower_micros
    locked = int(lower[bounds.lower_source == "locked"].sum())
    if locked > cap:
        found.add(
            f"locked spend {found.money(locked)} exceeds the cap {found.money(cap)}",
            "cap",
            "locked",
        )
        return
    parts = []
    names = ["cap"]
    for source, label in _FLOOR_NAMES.items():
        part = int(lower[bounds.lower_source == source].sum())
        if part > 0:
            parts.append(f"{label} {found.money(part)}")
            names.append(source)
    detail = f" ({', '.join(parts)})" if parts else ""
    found.add(
        f"sum of minimums {found.money(int(lower.sum()))} exceeds the cap {found.money(cap)}"
        + detail,
        *names,
    )


def _campaigns(
    found: _Conflicts,
    table: pd.DataFrame,
    lower: IntArray,
    upper: IntArray,
    limits: Mapping[str, tuple[int, int | None]],
    cap: float,
) -> None:
    if not limits:
        return
    campaigns = table["campaign"].fillna("").astype(str)
    lows = pd.Series(lower).groupby(campaigns.to_numpy()).sum()
    highs = pd.Series(upper).groupby(campaigns.to_numpy()).sum()
    for name, (minimum, maximum) in limits.items():
        label = f"campaign:{name}"
        if maximum is not None and minimum > maximum:
            found.add(
                f"campaign '{name}': its minimum {found.money(minimum)} (with its max change) "
                f"is above its maximum {found.money(maximum)}",
                label,
            )
            continue
        if maximum is not None and lows[name] > maximum:
            found.add(
                f"campaign '{name}': its entities' minimums add up to "
                f"{found.money(lows[name])}, above its maximum {found.money(maximum)}",
                label,
            )
        if minimum > highs[name]:
            found.add(
                f"campaign '{name}': its minimum {found.money(minimum)} is more than its "
                f"entities may spend ({found.money(highs[name])} at their maximums)",
                label,
            )
        if minimum > cap:
            found.add(
                f"campaign '{name}': its minimum {found.money(minimum)} exceeds the cap "
                f"{found.money(cap)}",
                label,
                "cap",
            )


def _group(
    found: _Conflicts,
    resolved: ResolvedGroup,
    lower: IntArray,
    upper: IntArray,
    cap: float,
    unit: int,
) -> None:
    group, members = resolved.group, resolved.members
    label = f"group:{group.name}"
    low_in, high_in = float(lower[members].sum()), float(upper[members].sum())
    low_out, high_out = float(lower[~members].sum()), float(upper[~members].sum())
    floor, ceiling = group_amount_limits(group, unit)
    if floor is not None:
        if floor > cap:
            found.add(
                f"group '{group.name}' floor {found.money(floor)} is above the cap "
                f"{found.money(cap)}",
                label,
                "cap",
            )
        elif floor > high_in:
            found.add(
                f"group '{group.name}' floor {found.money(floor)} is more than its campaigns "
                f"may spend ({found.money(high_in)} at their maximums)",
                label,
            )
    if ceiling is not None and low_in > ceiling:
        found.add(
            f"group '{group.name}' cap {found.money(ceiling)} is below its "
            f"entities' minimums {found.money(low_in)}",
            label,
        )
    if group.max_share is not None:
        others = min(high_out, cap - low_in)
        if low_in > group.max_share * (low_in + others) * (1 + _SLACK) + 1:
            share = low_in / (low_in + others) if low_in + others > 0 else 1.0
            found.add(
                f"group '{group.name}' may take at most {group.max_share:.0%} of spend, but its "
                f"entities' minimums are {share:.0%} of the most the account can spend",
                label,
            )
    if group.min_share is not None:
        most = min(high_in, cap - low_out)
        if most < group.min_share * (most + low_out) * (1 - _SLACK) - 1:
            share = most / (most + low_out) if most + low_out > 0 else 0.0
            found.add(
                f"group '{group.name}' needs at least {group.min_share:.0%} of spend, but can "
                f"reach at most {share:.0%} within its entities' maximums and the others' minimums",
                label,
            )


def _disjoint_floors(found: _Conflicts, groups: Sequence[ResolvedGroup], cap: float) -> None:
    """Floors of groups without shared campaigns add up: together they may exceed the cap / 100%."""
    amounts = [g for g in groups if g.group.min_amount_micros]
    if len(amounts) > 1 and np.isfinite(cap) and _disjoint(amounts):
        total = sum(g.group.min_amount_micros or 0 for g in amounts)
        if total > cap:
            found.add(
                f"group floors add up to {found.money(total)}, above the cap {found.money(cap)}",
                *(f"group:{g.group.name}" for g in amounts),
                "cap",
            )
    shares = [g for g in groups if g.group.min_share]
    if len(shares) > 1 and _disjoint(shares):
        total_share = sum(float(g.group.min_share or 0.0) for g in shares)
        if total_share > 1 + _SLACK:
            found.add(
                f"group minimum shares add up to {total_share:.0%} of spend",
                *(f"group:{g.group.name}" for g in shares),
            )


def _disjoint(groups: Sequence[ResolvedGroup]) -> bool:
    return bool(np.sum([g.members for g in groups], axis=0).max() <= 1)


def _targets(found: _Conflicts, request: AllocationRequest, base: Baseline, room: float) -> None:
    currency = request.currency
    if request.target_cpa_micros is not None:
        best = best_cpa(base, room)
        target = request.target_cpa_micros / MICROS
        if best > target * (1 + _SLACK):
            found.add(
                f"target CPA {amount(target, currency)} is unreachable: the best CPA "
                f"within bounds is {amount(best, currency)}",
                "target_cpa",
            )
    if request.target_roas is not None:
        best = best_roas(base, room)
        if best < request.target_roas * (1 - _SLACK):
            found.add(
                f"target ROAS {ratio(request.target_roas)} is unreachable: the best ROAS within "
                f"bounds is {ratio(best)}",
                "target_roas",
            )
    if request.conversions_target is not None:
        most = most_conversions(base, room)
        if most < request.conversions_target * (1 - _SLACK):
            found.add(
                f"conversions target {ratio(request.conversions_target)} is unreachable: at most "
                f"{ratio(most)} conversions fit within the bounds and the cap",
                "conversions_target",
            )
