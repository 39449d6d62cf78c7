"""Why the LP found no allocation, when the checks before solving saw no single culprit.

Targets first: if dropping the target CPA (ROAS, conversion target) makes the rest feasible, the
best CPA (ROAS, conversions) the other constraints allow is computed on the same LP (Dinkelbach's
method for the ratios: a few solves with changed costs) and reported against the target. Otherwise
the conflicting rows come from HiGHS's irreducible infeasible subset, or, with CBC, all rows are
named.
"""

from __future__ import annotations

import contextlib
from typing import NoReturn

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.schema import MICROS
from optimizer.solver.backends import Session, open_session
from optimizer.solver.curves import FloatArray
from optimizer.solver.model import Baseline, LinearProgram
from optimizer.solver.options import AllocationRequest
from optimizer.solver.prepare import Prepared
from optimizer.solver.text import amount, ratio

__all__ = ["explain_infeasible"]

_TARGETS = ("target_cpa", "target_roas", "conversions_target")
_ITERATIONS = 40
_TOLERANCE = 1e-7


def explain_infeasible(prepared: Prepared) -> NoReturn:
    program, request = prepared.program, prepared.request
    targets = [row for kind in _TARGETS if (row := program.row_index(kind)) is not None]
    for row in targets:
        session = _feasible_session(program.without_rows([row]), request)
        if session is not None:
            kind = program.rows[row].kind
            raise InfeasibleError(_target_message(kind, session, prepared), conflicts=[kind])
    if len(targets) > 1 and _feasible_session(program.without_rows(targets), request):
        kinds = [program.rows[row].kind for row in targets]
        raise InfeasibleError(
            "the targets cannot all be met together within the bounds: "
            + ", ".join(_describe(kind, request) for kind in kinds),
            conflicts=kinds,
        )
    labels = _conflicting_labels(program, request)
    raise InfeasibleError(
        "no allocation meets these constraints together: "
        + ", ".join(_describe(label, request) for label in labels),
        conflicts=labels,
    )


def _feasible_session(program: LinearProgram, request: AllocationRequest) -> Session | None:
    session = open_session(program, request.solver)
    try:
        session.solve()
    except InfeasibleError:
        return None
    return session


def _target_message(kind: str, session: Session, prepared: Prepared) -> str:
    request, base, currency = prepared.request, prepared.base, prepared.request.currency
    if kind == "target_cpa":
        best = _best_cpa(session, base)
        return (
            f"target CPA {amount((request.target_cpa_micros or 0) / MICROS, currency)} is "
            "unreachable with "
            f"the other constraints: the best CPA within them is {amount(best, currency)}"
        )
    if kind == "target_roas":
        return (
            f"target ROAS {ratio(float(request.target_roas or 0))} is unreachable with the other "
            f"constraints: the best ROAS within them is {ratio(_best_roas(session, base))}"
        )
    session.set_costs(base.column_conversions)
    most = base.conversions + float(base.column_conversions @ session.solve().values)
    return (
        f"conversions target {ratio(float(request.conversions_target or 0))} is unreachable with "
        f"the other constraints: at most {ratio(most)} conversions fit within them"
    )


def _best_cpa(session: Session, base: Baseline) -> float:
    """min spend / conversions: maximise lam * conversions - spend until that reaches zero."""
    return _dinkelbach(
        session, base.spend, base.column_spend, base.conversions, base.column_conversions
    )


def _best_roas(session: Session, base: Baseline) -> float:
    least = _dinkelbach(session, base.spend, base.column_spend, base.value, base.column_value)
    return 0.0 if not np.isfinite(least) or least <= 0 else 1.0 / least


def _dinkelbach(
    session: Session, cost0: float, cost: FloatArray, gain0: float, gain: FloatArray
) -> float:
    """Least (cost0 + cost @ y) / (gain0 + gain @ y) over the session's feasible set."""
    session.set_costs(gain - cost)
    y = session.solve().values
    for _ in range(_ITERATIONS):
        spent, gained = cost0 + float(cost @ y), gain0 + float(gain @ y)
        if gained <= 0:
            return float(np.inf)
        lam = spent / gained
        session.set_costs(lam * gain - cost)
        y = session.solve().values
        improvement = lam * (gain0 + float(gain @ y)) - (cost0 + float(cost @ y))
        if improvement <= _TOLERANCE * max(spent, 1.0):
            return lam
    return lam


def _conflicting_labels(program: LinearProgram, request: AllocationRequest) -> list[str]:
    session = open_session(program, request.solver)
    with contextlib.suppress(InfeasibleError):
        session.solve()
    rows = session.conflicting_rows()
    chosen = range(len(program.rows)) if rows is None else rows
    labels = list(
        dict.fromkeys(program.rows[i].label for i in chosen if program.rows[i].kind != "entry")
    )
    return labels or ["entity bounds"]


def _describe(label: str, request: AllocationRequest) -> str:
    currency = request.currency
    kind, _, name = label.partition(":")
    if kind == "cap":
        return f"the cap {amount((request.budget_micros or 0) / MICROS, currency)}"
    if kind == "campaign":
        return f"campaign '{name}' limits"
    if kind == "group":
        return f"group '{name}' limits"
    if kind == "target_cpa":
        return f"target CPA {amount((request.target_cpa_micros or 0) / MICROS, currency)}"
    if kind == "target_roas":
        return f"target ROAS {ratio(float(request.target_roas or 0))}"
    if kind == "shared_budget":
        return f"shared budget '{name}' (its campaigns' assumed split)"
    if kind == "conversions_target":
        return f"conversions target {ratio(float(request.conversions_target or 0))}"
    return label
