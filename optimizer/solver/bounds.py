"""Each entity's allowed spend range, where each side comes from, on the currency's minor-unit grid.

The bounds a person set (entity min/max, locks, no budget for entities without history) are hard:
when they contradict each other the request is infeasible. The max-change limit and then the
curve's trust region are intersected with them; where one does not overlap them at all, the range
shrinks to the person's bound nearest to it (named as a relaxation), so one entity with an odd
trust region or a bound set outside the change limit cannot sink a whole request. Under a budget,
the soft floors give way to the cap (see `optimizer.solver.relax`).
Lower bounds round up and upper bounds round down to the minor unit, so rounding the LP's answer
down stays inside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InfeasibleError, InvalidInputError
from optimizer.schema import MICROS
from optimizer.solver.curves import FloatArray, IntArray
from optimizer.solver.options import AllocationRequest
from optimizer.solver.relax import Relaxation, relax_floors
from optimizer.solver.text import amount, entity_names

__all__ = ["EntityBounds", "entity_bounds", "entity_positions"]

ObjectArray = npt.NDArray[np.object_]

_PHRASES = {
    "entity_min": "its minimum",
    "entity_max": "its maximum",
    "no_history": "the zero budget of an entity without current spend (allow_new is off)",
}


@dataclass(frozen=True, eq=False)
class EntityBounds:
    """Allowed spend per entity in micros (multiples of `unit`) and what sets each end."""

    lower_micros: IntArray
    upper_micros: IntArray
    lower_source: ObjectArray
    upper_source: ObjectArray
    unit: int
    relaxations: tuple[Relaxation, ...] = ()

    @property
    def lower(self) -> FloatArray:
        return self.lower_micros / MICROS

    @property
    def upper(self) -> FloatArray:
        return self.upper_micros / MICROS


def entity_positions(table: pd.DataFrame, ids: Iterable[str], what: str) -> IntArray:
    """Row positions of the given entity ids; unknown ids are an input error."""
    keys = [str(i) for i in ids]
    positions = pd.Index(table["entity_id"].astype(str)).get_indexer(pd.Index(keys))
    unknown = [key for key, pos in zip(keys, positions, strict=True) if pos < 0]
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise InvalidInputError(f"{what} name entity ids not in the curve table: {shown}")
    return positions.astype(np.int64)


def entity_bounds(
    table: pd.DataFrame,
    request: AllocationRequest,
    unit: int,
    budget_micros: int | None = None,
) -> EntityBounds:
    """Each entity's range, hard bounds first, then the soft ones inside them (see `relax`).

    With `budget_micros`, soft floors whose total exceeds it are relaxed (`relaxations` says how).
    """
    n = len(table)
    current = table["current_spend"].to_numpy(dtype=np.float64)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    lo_src = np.full(n, "", dtype=object)
    hi_src = np.full(n, "", dtype=object)

    def tighten(new_lo: FloatArray | None, new_hi: FloatArray | None, source: str) -> None:
        if new_lo is not None:
            raise_lo = new_lo > lo
            lo[raise_lo], lo_src[raise_lo] = new_lo[raise_lo], source
        if new_hi is not None:
            cut_hi = new_hi < hi
            hi[cut_hi], hi_src[cut_hi] = new_hi[cut_hi], source

    if request.entity_bounds:
        where = entity_positions(table, request.entity_bounds.keys(), "entity bounds")
        given = list(request.entity_bounds.values())
        mins, maxs = np.zeros(n), np.full(n, np.inf)
        mins[where] = [(b.minimum_micros or 0) / MICROS for b in given]
        maxs[where] = [
            np.inf if b.maximum_micros is None else b.maximum_micros / MICROS for b in given
        ]
        tighten(mins, None, "entity_min")
        tighten(None, maxs, "entity_max")
    existing = current > 0
    if not request.allow_new:
        tighten(None, np.where(existing, np.inf, 0.0), "no_history")
    _raise_on_conflicts(table, lo, hi, lo_src, hi_src, request.currency)
    hard = lo.copy()

    yielded = _change_range(current, existing, request)
    if yielded is not None:
        change_lo, change_hi = yielded
        clash = (change_lo > hi) | (change_hi < lo)
        tighten(np.clip(change_lo, lo, hi), np.clip(change_hi, lo, hi), "max_change")
    else:
        clash = np.zeros(n, dtype=bool)
    change = lo.copy()

    trust_low = table["trust_low"].to_numpy(dtype=np.float64)
    trust_high = table["trust_high"].to_numpy(dtype=np.float64)
    tighten(np.clip(trust_low, lo, hi), np.clip(trust_high, lo, hi), "trust")
    lo_src[lo_src == "trust"] = "trust_low"
    hi_src[hi_src == "trust"] = "trust_high"

    if request.locked:
        where = entity_positions(table, request.locked, "locked entities")
        lo[where] = hi[where] = hard[where] = change[where] = current[where]
        lo_src[where] = hi_src[where] = "locked"
        clash[where] = False

    upper = _to_grid(hi, unit, up=False)
    lower = np.minimum(_to_grid(lo, unit, up=True), upper)
    relaxed = _yielded_to_bounds(clash)
    if budget_micros is not None:
        floors = [np.minimum(_to_grid(v, unit, up=True), lower) for v in (hard, change)]
        fitted, to_cap = relax_floors(
            floors[0], floors[1], lower, budget_micros, unit=unit, currency=request.currency
        )
        lo_src[fitted < lower] = "cap"
        lower, relaxed = fitted, relaxed + to_cap
    return EntityBounds(lower, upper, lo_src, hi_src, unit, relaxed)


def _change_range(
    current: FloatArray, existing: npt.NDArray[np.bool_], request: AllocationRequest
) -> tuple[FloatArray, FloatArray] | None:
    """The change limits' range around current spend (entities with spend only)."""
    down = _tightest(request.max_change, request.max_decrease)
    up = _tightest(request.max_change, request.max_increase)
    if down is None and up is None:
        return None
    low = np.where(existing, current * max(1.0 - (down if down is not None else 1.0), 0.0), 0.0)
    high = (
        np.where(existing, current * (1.0 + up), np.inf)
        if up is not None
        else np.full(len(current), np.inf)
    )
    return low, high


def _tightest(*limits: float | None) -> float | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def _yielded_to_bounds(clash: npt.NDArray[np.bool_]) -> tuple[Relaxation, ...]:
    count = int(clash.sum())
    if count == 0:
        return ()
    noun = "entity" if count == 1 else "entities"
    text = f"max-change limits of {count} {noun} yield to the bounds a person set"
    return (Relaxation("max_change", count, 0, "entity_bounds", text),)


def _to_grid(values: FloatArray, unit: int, *, up: bool) -> IntArray:
    finite = np.where(np.isfinite(values), values, 1e15)
    micros = np.round(finite * MICROS).astype(np.int64)
    return (-((-micros) // unit) if up else micros // unit) * unit


def _raise_on_conflicts(
    table: pd.DataFrame,
    lo: FloatArray,
    hi: FloatArray,
    lo_src: ObjectArray,
    hi_src: ObjectArray,
    currency: str,
) -> None:
    bad = np.flatnonzero(lo > hi + 1e-9)
    if bad.size == 0:
        return
    names = entity_names(table.iloc[bad])
    details = [
        f"{name}: {_PHRASES[lo_src[i]]} ({amount(lo[i], currency)}) is above "
        f"{_PHRASES[hi_src[i]]} ({amount(hi[i], currency)})"
        for name, i in zip(names, bad, strict=True)
    ]
    more = f" (and {bad.size - 3} more)" if bad.size > 3 else ""
    counted = "1 entity has" if bad.size == 1 else f"{bad.size} entities have"
    raise InfeasibleError(
        f"{counted} contradictory bounds: " + "; ".join(details[:3]) + more,
        conflicts=[f"entity:{table['entity_id'].iloc[i]}" for i in bad],
    )
