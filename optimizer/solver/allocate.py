"""`allocate`: curve table + request -> Allocation (solve, round to the currency, explain)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.bands import scaled_band
from optimizer.errors import InfeasibleError
from optimizer.schema import MICROS, NAME_COLUMNS
from optimizer.solver.backends import LpSolution, open_session
from optimizer.solver.curves import EntityCurves, FloatArray
from optimizer.solver.diagnosis import explain_infeasible
from optimizer.solver.model import group_amount_limits
from optimizer.solver.options import AllocationRequest
from optimizer.solver.prepare import Prepared, prepare
from optimizer.solver.refine import refine
from optimizer.solver.result import ENTITY_COLUMNS, Allocation
from optimizer.solver.rounding import SpendLimit, round_to_units

__all__ = ["allocate", "cap_shadow_price", "entity_spend", "objective_marginal", "solve_prepared"]

_ROW_RANK = {
    "campaign": 0,
    "group": 1,
    "group_share": 1,
    "cap": 2,
    "target_cpa": 3,
    "target_roas": 4,
    "conversions_target": 5,
    "entry": -1,
    "shared_budget": -1,
}
_UNLABELLED = ("entry", "shared_budget")
_ROW_TOLERANCE = 1e-6


def allocate(table: pd.DataFrame, request: AllocationRequest) -> Allocation:
    """The best daily split of the budget under the request's objective and constraints.

    Raises InfeasibleError (with the conflicting constraints named) when nothing satisfies them.
    """
    started = time.perf_counter()
    prepared = prepare(table, request)
    built = time.perf_counter()
    solution = solve_prepared(prepared)
    solved = time.perf_counter()
    if request.refine and prepared.program.columns:
        prepared, solution = _refined(prepared, solution)
    refined = time.perf_counter()
    allocation = _answer(prepared, solution)
    timings = {
        "build_s": built - started,
        "solve_s": solved - built,
        "refine_s": refined - solved,
        "results_s": time.perf_counter() - refined,
    }
    return dataclasses.replace(allocation, timings=timings)


def solve_prepared(prepared: Prepared) -> LpSolution:
    """Solve the prepared LP once; an infeasible LP is explained before the error leaves."""
    program = prepared.program
    if program.columns == 0:
        return _fixed_solution(prepared)
    session = open_session(program, prepared.request.solver)
    try:
        return session.solve()
    except InfeasibleError:
        explain_infeasible(prepared)


def _refined(prepared: Prepared, solution: LpSolution) -> tuple[Prepared, LpSolution]:
    """The finer second answer when it is at least as good on the curve itself."""
    first = entity_spend(prepared, solution.values)
    second = refine(prepared, first)
    if second is None:
        return prepared, solution
    finer, finer_solution = second
    better = _objective(prepared, entity_spend(finer, finer_solution.values))
    if better >= _objective(prepared, first) - 1e-9 * abs(better):
        return finer, finer_solution
    return prepared, solution


def _objective(prepared: Prepared, spend: FloatArray) -> float:
    """The request's objective on the optimised curve (not its piecewise-linear model)."""
    conversions = prepared.curves.value(spend)
    objective = prepared.request.objective
    if objective == "conversions":
        return float(conversions.sum())
    value = float((conversions * prepared.value_per_conversion).sum())
    if objective == "value":
        return value
    if objective == "profit":
        return value * float(prepared.request.margin or 0.0) - float(spend.sum())
    return -float(spend.sum())


def _fixed_solution(prepared: Prepared) -> LpSolution:
    """Every entity is pinned: no LP to solve, but the rows must still hold at y = 0."""
    program = prepared.program
    if ((program.row_lower > _ROW_TOLERANCE) | (program.row_upper < -_ROW_TOLERANCE)).any():
        explain_infeasible(prepared)
    duals = np.zeros(len(program.rows))
    return LpSolution(np.zeros(0), duals, "none")


def entity_spend(prepared: Prepared, values: FloatArray) -> FloatArray:
    """Spend per entity from segment fills: lower bound plus the filled segment lengths."""
    segments = prepared.segments
    filled = segments.entity_totals(segments.length * values, len(prepared.table))
    return np.minimum(prepared.origin + filled, prepared.bounds.upper)


def objective_marginal(prepared: Prepared, spend: FloatArray) -> FloatArray:
    """Objective gained per extra unit of spend on each entity, at `spend`."""
    slope = prepared.curves.slope(spend)
    objective = prepared.request.objective
    if objective == "value":
        return slope * prepared.value_per_conversion
    if objective == "profit":
        margin = float(prepared.request.margin or 0.0)
        return slope * prepared.value_per_conversion * margin - 1.0
    return slope


def _answer(prepared: Prepared, solution: LpSolution) -> Allocation:
    request, table, bounds = prepared.request, prepared.table, prepared.bounds
    spend = entity_spend(prepared, solution.values)
    marginal = objective_marginal(prepared, spend)
    micros = round_to_units(
        spend,
        bounds.lower_micros,
        bounds.upper_micros,
        unit=bounds.unit,
        cap=prepared.budget_micros,
        marginal=marginal,
        limits=_spend_limits(prepared),
    )
    recommended = micros / MICROS
    fitted = EntityCurves.from_table(table)
    conversions = fitted.value(recommended)
    low, high = scaled_band(
        conversions,
        EntityCurves.from_table(table, "low").value(recommended),
        EntityCurves.from_table(table, "high").value(recommended),
        1.0,
    )
    current = table["current_spend"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(current > 0, (recommended - current) / current * 100.0, np.nan)
        marginal_cpa = 1.0 / prepared.curves.slope(recommended)
    value = conversions * prepared.value_per_conversion
    entities = pd.DataFrame(
        {
            "entity_id": table["entity_id"].to_numpy(),
            **{name: table[name].to_numpy() for name in NAME_COLUMNS},
            "current_spend": current,
            "recommended_spend": recommended,
            "recommended_micros": micros,
            "change_pct": change,
            "expected_conversions": conversions,
            "conversions_low": low,
            "conversions_high": high,
            "expected_value": value,
            "marginal_cpa": np.where(np.isfinite(marginal_cpa), marginal_cpa, np.inf),
            "binding": _binding(prepared, solution, spend),
        },
        columns=list(ENTITY_COLUMNS),
    )
    return Allocation(
        entities=entities,
        objective=request.objective,
        currency=request.currency,
        budget_micros=prepared.budget_micros,
        total_micros=int(micros.sum()),
        current_total=float(current.sum()),
        expected_conversions=float(conversions.sum()),
        conversions_low=float(low.sum()),
        conversions_high=float(high.sum()),
        expected_value=float(value.sum()),
        cap_shadow_price=cap_shadow_price(prepared, solution),
        solver=solution.solver,
        columns=prepared.program.columns,
        timings={},
        relaxations=bounds.relaxations,
    )


def _spend_limits(prepared: Prepared) -> list[SpendLimit]:
    limits = []
    campaigns = prepared.table["campaign"].fillna("").astype(str).to_numpy(dtype=object)
    for name, (low, high) in prepared.campaign_limits.items():
        members = np.flatnonzero(campaigns == name).astype(np.int64)
        limits.append(SpendLimit(members, low if low > 0 else None, high))
    for resolved in prepared.groups:
        floor, ceiling = group_amount_limits(resolved.group, prepared.bounds.unit)
        if floor is not None or ceiling is not None:
            members = np.flatnonzero(resolved.members).astype(np.int64)
            limits.append(SpendLimit(members, floor, ceiling))
    return limits


def cap_shadow_price(
    prepared: Prepared, solution: LpSolution, cap_room: float | None = None
) -> float | None:
    """Objective per extra unit on the cap (0 when it does not bind): the LP dual, else the best
    objective per unit of spend among segments not yet full (which ignores other binding rows).

    `cap_room` is the cap row's current right-hand side when a caller (the frontier) changed it in
    the solver after the program was built.
    """
    program = prepared.program
    row = program.row_index("cap")
    if row is None:
        return None
    upper = float(program.row_upper[row]) if cap_room is None else cap_room
    activity = float((program.matrix[[row], :] @ solution.values)[0]) if program.columns else 0.0
    if activity < upper - _ROW_TOLERANCE * max(1.0, upper):
        return 0.0
    if solution.row_duals.size > row and np.isfinite(solution.row_duals[row]):
        return float(abs(solution.row_duals[row]))
    open_columns = solution.values < 1.0 - 1e-6
    per_unit = program.costs[open_columns] / prepared.segments.length[open_columns]
    return float(max(per_unit.max(initial=0.0), 0.0))


def _binding(
    prepared: Prepared, solution: LpSolution, spend: FloatArray
) -> npt.NDArray[np.object_]:
    """What holds each entity where it is (see Allocation); entity bounds win over rows."""
    program, bounds = prepared.program, prepared.bounds
    n = len(spend)
    label = np.full(n, "none", dtype=object)
    if program.columns and len(program.rows):
        activity = program.matrix @ solution.values
        slack = _ROW_TOLERANCE * np.maximum(
            1.0, np.abs(np.where(np.isfinite(program.row_upper), program.row_upper, 0.0))
        )
        tight = (activity >= program.row_upper - slack) | (activity <= program.row_lower + slack)
        order = sorted(
            range(len(program.rows)), key=lambda i: _ROW_RANK[program.rows[i].kind], reverse=True
        )
        for i in order:
            if tight[i] and program.rows[i].kind not in _UNLABELLED:
                members = program.rows[i].members
                label[slice(None) if members is None else members] = program.rows[i].label
    half_unit = 0.5 * bounds.unit / MICROS
    at_low = (spend <= bounds.lower + half_unit) & (bounds.lower_source != "")
    at_high = (spend >= bounds.upper - half_unit) & (bounds.upper_source != "")
    label[at_low] = bounds.lower_source[at_low]
    label[at_high] = bounds.upper_source[at_high]
    return label
