"""What each budget level would buy: the efficient frontier from one LP, re-solved per budget.

The model is built once with a cap row; each budget point only changes that row's right-hand side
and solves again, without rebuilding anything. Spends are the LP's (one LP, not refined, not rounded
to the currency): the frontier is for comparing budget levels, the allocation for booking one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import CancelledError, InfeasibleError, InvalidInputError, SolverError
from optimizer.schema import MICROS
from optimizer.solver.allocate import cap_shadow_price, entity_spend
from optimizer.solver.backends import LpSolution, Session, open_session
from optimizer.solver.curves import EntityCurves
from optimizer.solver.options import AllocationRequest
from optimizer.solver.prepare import prepare

__all__ = ["DEFAULT_FRACTIONS", "FRONTIER_COLUMNS", "Frontier", "budget_frontier"]

DEFAULT_FRACTIONS: tuple[float, ...] = tuple(round(0.5 + 0.1 * i, 1) for i in range(16))
FRONTIER_COLUMNS: tuple[str, ...] = (
    "budget",
    "spend",
    "expected_conversions",
    "expected_value",
    "average_cpa",
    "marginal_cpa",
    "shadow_price",
    "feasible",
)


@dataclass(frozen=True, eq=False)
class Frontier:
    """One row per budget (`FRONTIER_COLUMNS`), ascending; infeasible budgets have feasible=False.

    `marginal_cpa` is the cost of one more conversion at that budget: from the cap's dual when the
    objective is conversions on the fitted curve, otherwise from the neighbouring points.
    """

    points: pd.DataFrame
    objective: str
    currency: str
    current_total: float
    solver: str
    timings: dict[str, float]


def budget_frontier(
    table: pd.DataFrame,
    request: AllocationRequest,
    budgets_micros: Sequence[int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Frontier:
    """Frontier over `budgets_micros` (default: 50%..200% of the current total, by 10%);
    `should_stop` is asked before each budget's solve (CancelledError once it says yes)."""
    if request.objective == "min_cost":
        raise InvalidInputError("a budget frontier needs an objective to maximise, not min_cost")
    started = time.perf_counter()
    current_total = float(table["current_spend"].sum())
    default = [round(f * current_total * MICROS) for f in DEFAULT_FRACTIONS]
    levels = sorted(int(b) for b in (budgets_micros or default))
    if not levels or not all(b >= 0 for b in levels):
        raise InvalidInputError("frontier budgets must be non-negative amounts")
    prepared = prepare(table, request, budget_micros=levels[-1])
    program = prepared.program
    cap_row = program.row_index("cap")
    if cap_row is None:
        raise SolverError("the frontier model has no cap row")
    session = open_session(program, request.solver) if program.columns else None
    built = time.perf_counter()
    fitted = EntityCurves.from_table(prepared.table)
    floor = int(prepared.bounds.lower_micros.sum())
    rows = []
    unit = prepared.bounds.unit
    for done, level in enumerate(levels):
        if should_stop is not None and should_stop():
            raise CancelledError(
                f"the frontier stopped after {done} of {len(levels)} budgets: its caller went away"
            )
        budget = level / MICROS
        room = ((level // unit) * unit - floor) / MICROS
        if room < 0:
            rows.append(_infeasible(budget))
            continue
        try:
            solution = _solve_at(session, cap_row, room, len(program.rows))
        except InfeasibleError:
            rows.append(_infeasible(budget))
            continue
        spend = entity_spend(prepared, solution.values)
        conversions = fitted.value(spend)
        shadow = cap_shadow_price(prepared, solution, room)
        rows.append(
            {
                "budget": budget,
                "spend": float(spend.sum()),
                "expected_conversions": float(conversions.sum()),
                "expected_value": float((conversions * prepared.value_per_conversion).sum()),
                "shadow_price": shadow,
                "feasible": True,
            }
        )
    points = _finish(pd.DataFrame(rows), request)
    return Frontier(
        points=points,
        objective=request.objective,
        currency=request.currency,
        current_total=current_total,
        solver=session.name if session is not None else "none",
        timings={"build_s": built - started, "solve_s": time.perf_counter() - built},
    )


def _solve_at(session: Session | None, cap_row: int, room: float, rows: int) -> LpSolution:
    if session is None:
        return LpSolution(np.zeros(0), np.zeros(rows), "none")
    session.set_row_upper(cap_row, room)
    return session.solve()


def _infeasible(budget: float) -> dict[str, object]:
    return {
        "budget": budget,
        "spend": np.nan,
        "expected_conversions": np.nan,
        "expected_value": np.nan,
        "shadow_price": np.nan,
        "feasible": False,
    }


def _finish(points: pd.DataFrame, request: AllocationRequest) -> pd.DataFrame:
    ok = points["feasible"].to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        points["average_cpa"] = points["spend"] / points["expected_conversions"]
        marginal = np.full(len(points), np.nan)
        if request.objective == "conversions" and not request.conservative:
            marginal = 1.0 / points["shadow_price"].to_numpy(dtype=np.float64)
        elif ok.sum() >= 2:
            spend = points.loc[ok, "spend"].to_numpy(dtype=np.float64)
            conversions = points.loc[ok, "expected_conversions"].to_numpy(dtype=np.float64)
            marginal[ok] = np.gradient(spend, conversions)
    points["marginal_cpa"] = marginal
    return points.loc[:, list(FRONTIER_COLUMNS)].reset_index(drop=True)
