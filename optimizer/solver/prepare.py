"""From a curve table and a request to a checked LP: bounds, segments, groups, feasibility, rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.curve_table import validate_curve_table
from optimizer.errors import InvalidInputError
from optimizer.families import NONCONCAVE_FAMILIES
from optimizer.money import minor_unit_micros
from optimizer.solver.bounds import EntityBounds, entity_bounds
from optimizer.solver.curves import EntityCurves, FloatArray
from optimizer.solver.feasibility import check_feasible
from optimizer.solver.groups import ResolvedGroup, resolve_groups
from optimizer.solver.model import Baseline, LinearProgram, build_program, campaign_limits
from optimizer.solver.options import AllocationRequest
from optimizer.solver.segments import Segments, build_segments, entry_points, with_entries
from optimizer.solver.shared import holdable_shared_budgets

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything derived from one request before solving; `curves` is the curve being optimised
    and `origin` where each entity's segments start (its lower bound, or a refinement window's);
    `entry` where an S-shaped entity's concave part starts (its lower bound for every other)."""

    request: AllocationRequest
    table: pd.DataFrame
    curves: EntityCurves
    bounds: EntityBounds
    segments: Segments
    base: Baseline
    value_per_conversion: FloatArray
    groups: tuple[ResolvedGroup, ...]
    campaign_limits: dict[str, tuple[int, int | None]]
    budget_micros: int | None
    program: LinearProgram
    origin: FloatArray
    entry: FloatArray | None = None


def prepare(
    table: pd.DataFrame, request: AllocationRequest, *, budget_micros: int | None = None
) -> Prepared:
    """Validate, bound, segment and check the request; `budget_micros` overrides the request's.

    The cap is rounded down to the currency's minor unit (caps are hard)."""
    table = validate_curve_table(table).reset_index(drop=True)
    if table.empty:
        raise InvalidInputError("the curve table has no entities to allocate to")
    unit = minor_unit_micros(request.currency)
    cap = request.budget_micros if budget_micros is None else budget_micros
    budget_micros = None if cap is None else (cap // unit) * unit
    bounds = entity_bounds(table, request, unit, budget_micros)
    curves = EntityCurves.from_table(table, "low" if request.conservative else "")
    shaped = table["family"].isin(NONCONCAVE_FAMILIES).to_numpy()
    entry = entry_points(curves, bounds.lower, bounds.upper, shaped)
    segments = build_segments(
        curves,
        entry,
        bounds.upper,
        tolerance=request.tolerance,
        max_segments=request.max_segments,
    )
    segments = with_entries(curves, bounds.lower, entry, segments)
    value_per_conversion = table["value_per_conversion"].to_numpy(dtype=np.float64)
    base = Baseline.of(segments, bounds.lower, curves.value(bounds.lower), value_per_conversion)
    groups = resolve_groups(table["campaign"], request.groups, request.campaign_labels)
    limits = campaign_limits(request, table, unit)
    if request.shared_budgets:
        held = holdable_shared_budgets(request.shared_budgets, table, bounds, limits, budget_micros)
        request = dataclasses.replace(request, shared_budgets=held)
    check_feasible(request, table, bounds, base, groups, limits, budget_micros)
    program = build_program(
        request,
        table,
        bounds.lower,
        bounds.unit,
        segments,
        base,
        groups,
        limits,
        budget_micros=budget_micros,
    )
    return Prepared(
        request=request,
        table=table,
        curves=curves,
        bounds=bounds,
        segments=segments,
        base=base,
        value_per_conversion=value_per_conversion,
        groups=groups,
        campaign_limits=limits,
        budget_micros=budget_micros,
        program=program,
        origin=bounds.lower,
        entry=entry,
    )
