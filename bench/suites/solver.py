"""The allocator at scale: time and answer quality against an exact optimum, SLSQP, the frontier.

Every case solves the same synthetic problem (`make_case`): n Hill curves in campaigns of 20
entities, labelled into 20 groups whose caps alternate 0.8x / 1.2x of their current spend, a total
cap of 0.9x the current total and at most 50% change per entity. The curves in the table are the
truth, so `objective_ratio` = expected conversions at the answer / the exact optimum of the smooth
problem (`exact_optimum`), both evaluated on the same curves.

`solver_lp_backends` keeps the measurement behind the HiGHS options in `optimizer.solver.backends`:
the LP of the 20-group case built and solved by each candidate.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bench.registry import case

__all__ = [
    "ENTITIES_PER_CAMPAIGN",
    "GROUPS",
    "exact_optimum",
    "make_case",
    "solver_allocate",
    "solver_frontier",
    "solver_lp_backends",
    "solver_s_shapes",
    "solver_slsqp",
]

GROUPS = 20
ENTITIES_PER_CAMPAIGN = 20
_BUDGET_SHARE = 0.9
_MAX_CHANGE = 0.5
_GROUP_CAPS = (1.2, 0.8)
_SIMPLEX_LIMIT = 10_000
_OVERSHOOT = 1e-9
_HIGHS_VARIANTS: dict[str, dict[str, Any]] = {
    "highs_simplex": {"solver": "simplex"},
    "highs_ipm_rule8192_off": {
        "solver": "ipm",
        "run_crossover": "off",
        "presolve_rule_off": 8192,
    },
    "highs_ipm_no_presolve_chosen": {"solver": "ipm", "run_crossover": "off", "presolve": "off"},
    "highs_ipm_no_presolve_crossover": {"solver": "ipm", "presolve": "off"},
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """One benchmark problem: the curve table, the request and the smooth problem behind them.

    `params` are the table's curves as the oracle's CurveParams, `weights` their calendar
    multipliers; `lower`, `upper` and `budget` are the bounds and cap `prepare` derived, in
    currency units; `group` is each entity's group index, `caps` each group's cap.
    """

    table: pd.DataFrame
    request: Any
    params: Any
    weights: FloatArray
    lower: FloatArray
    upper: FloatArray
    budget: float
    group: IntArray
    caps: FloatArray


def make_case(n: int, seed: int = 1) -> tuple[pd.DataFrame, Any, dict[str, str]]:
    """n Hill-curve entities in n/20 campaigns labelled into 20 groups, as a curve table and as
    the oracle's CurveParams (calendar factor 1, the table's multiplier passed as weights)."""
    from optimizer.curve_table import CURVE_TABLE_COLUMNS
    from optimizer.schema import EntityKey
    from optimizer.simulate import CurveParams

    rng = np.random.default_rng(seed)
    vmax = rng.lognormal(1.5, 0.8, n)
    k = rng.lognormal(3.0, 0.8, n)
    shape = rng.uniform(0.5, 1.0, n)
    current = np.round(k * rng.uniform(0.3, 1.5, n), 2)
    campaigns = np.arange(n) // ENTITIES_PER_CAMPAIGN
    names = [f"campaign {c:05d}" for c in campaigns]
    hill = {"a": vmax, "k": k, "s": shape, "b": np.full(n, np.nan)}
    table = pd.DataFrame(
        {
            "entity_id": [f"e{i}" for i in range(n)],
            "campaign": names,
            "ad_group": "ad group",
            "keyword": [f"keyword {i}" for i in range(n)],
            "match_type": "exact",
            "family": "hill",
            **hill,
            **{f"low_{p}": v * (0.8 if p == "a" else 1.0) for p, v in hill.items()},
            **{f"high_{p}": v * (1.2 if p == "a" else 1.0) for p, v in hill.items()},
            "multiplier": rng.uniform(0.8, 1.2, n),
            "value_per_conversion": np.round(rng.lognormal(4.0, 0.5, n), 2),
            "current_spend": current,
            "spend_min_obs": 0.3 * current,
            "spend_max_obs": 2.0 * current,
            "trust_low": 0.2 * current,
            "trust_high": 4.0 * current,
            "grade": "A",
        }
    ).loc[:, list(CURVE_TABLE_COLUMNS)]
    params = CurveParams(
        keys=tuple(
            EntityKey(name, "ad group", f"keyword {i}", "exact") for i, name in enumerate(names)
        ),
        vmax=vmax,
        k=k,
        shape=shape,
        order_value=table["value_per_conversion"].to_numpy(),
        dow=np.ones((n, 7)),
        trend_per_year=np.zeros(n),
    )
    labels = {f"campaign {c:05d}": f"g{c % GROUPS:02d}" for c in np.unique(campaigns)}
    return table, params, labels


def build_problem(n: int, *, groups: bool = True, solver: str = "auto") -> Problem:
    """`make_case(n)` with its request (20 label group caps unless `groups` is False)."""
    from optimizer.solver import AllocationRequest, Group
    from optimizer.solver.prepare import prepare

    table, params, labels = make_case(n)
    label = table["campaign"].map(labels)
    names = sorted(label.unique())
    current = table.groupby(label)["current_spend"].sum()
    caps = np.array(
        [float(current[name]) * _GROUP_CAPS[i % 2] for i, name in enumerate(names)]
        if groups
        else [math.inf] * len(names)
    )
    request = AllocationRequest(
        currency="EUR",
        budget_micros=round(_BUDGET_SHARE * float(table["current_spend"].sum()) * 1e6),
        max_change=_MAX_CHANGE,
        solver=solver,  # type: ignore[arg-type]
        groups=tuple(
            Group(name, name, by="label", max_amount_micros=round(float(cap) * 1e6))
            for name, cap in zip(names, caps, strict=True)
        )
        if groups
        else (),
        campaign_labels=labels if groups else {},
    )
    prepared = prepare(table, request)
    return Problem(
        table=table,
        request=request,
        params=params,
        weights=table["multiplier"].to_numpy(dtype=np.float64),
        lower=prepared.bounds.lower,
        upper=prepared.bounds.upper,
        budget=(prepared.budget_micros or 0) / 1e6,
        group=label.map({name: i for i, name in enumerate(names)}).to_numpy(dtype=np.int64),
        caps=caps,
    )


def objective(problem: Problem, spend: FloatArray) -> float:
    """Expected conversions of `spend` on the problem's (true) curves."""
    from optimizer.simulate import expected_conversions

    return math.fsum(expected_conversions(problem.params, spend) * problem.weights)


def _subset(params: Any, rows: IntArray) -> Any:
    from optimizer.simulate import CurveParams

    return CurveParams(
        keys=tuple(params.keys[i] for i in rows),
        vmax=params.vmax[rows],
        k=params.k[rows],
        shape=params.shape[rows],
        order_value=params.order_value[rows],
        dow=params.dow[rows],
        trend_per_year=params.trend_per_year[rows],
    )


def exact_optimum(problem: Problem, budget: float | None = None) -> FloatArray:
    """The exact optimum of the smooth problem with disjoint group caps, from the bisection oracle.

    Dropping the group caps can only raise the common marginal return, so a group over its cap in
    the relaxed optimum is binding in the true one: it gets the oracle's optimum at exactly its cap,
    the rest is solved again with what is left, until no group is over.
    """
    from optimizer.simulate import optimal_allocation

    cap = problem.budget if budget is None else budget
    spend = np.zeros(len(problem.weights))
    free = np.ones(len(problem.weights), dtype=bool)
    while True:
        rows = np.flatnonzero(free)
        relaxed = optimal_allocation(
            _subset(problem.params, rows),
            cap,
            problem.lower[rows],
            problem.upper[rows],
            weights=problem.weights[rows],
        ).allocation
        per_group = np.bincount(problem.group[rows], weights=relaxed, minlength=len(problem.caps))
        over = np.flatnonzero(per_group > problem.caps * (1 + _OVERSHOOT))
        if over.size == 0:
            spend[rows] = relaxed
            return spend
        for g in over:
            members = np.flatnonzero(problem.group == g)
            spend[members] = optimal_allocation(
                _subset(problem.params, members),
                float(problem.caps[g]),
                problem.lower[members],
                problem.upper[members],
                weights=problem.weights[members],
            ).allocation
            free[members] = False
            cap -= float(spend[members].sum())


def _recommended(problem: Problem, entities: pd.DataFrame) -> FloatArray:
    spend = entities.set_index("entity_id")["recommended_spend"]
    return spend.reindex(problem.table["entity_id"]).to_numpy(dtype=np.float64)


@case("solver_allocate")
def solver_allocate(*, entities: int, solver: str = "auto", workdir: str) -> dict[str, Any]:
    """`allocate` end to end with 20 group caps, and its answer against the exact optimum."""
    from optimizer.solver import allocate

    problem = build_problem(entities, solver=solver)
    started = time.perf_counter()
    result = allocate(problem.table, problem.request)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    exact = exact_optimum(problem)
    exact_s = time.perf_counter() - started
    spend = _recommended(problem, result.entities)
    groups = np.bincount(problem.group, weights=spend, minlength=len(problem.caps))
    return {
        "entities": entities,
        "groups": len(problem.caps),
        "solver": result.solver,
        "lp_columns": result.columns,
        "seconds": elapsed,
        "entities_per_s": entities / elapsed,
        **{key: float(value) for key, value in result.timings.items()},
        "objective_ratio": objective(problem, spend) / objective(problem, exact),
        "gap_to_exact": 1 - objective(problem, spend) / objective(problem, exact),
        "budget_used": float(spend.sum()) / problem.budget,
        "max_group_overshoot": float(max(np.max(groups - problem.caps), 0.0)),
        "exact_s": exact_s,
    }


def _slsqp(problem: Problem, maxiter: int) -> tuple[FloatArray, Any, float]:
    """SLSQP on the smooth problem from an even split of the budget (clipped into the bounds)."""
    from scipy.optimize import minimize

    from optimizer.simulate import expected_conversions, marginal_conversions

    n = len(problem.weights)
    members = np.zeros((len(problem.caps), n))
    members[problem.group, np.arange(n)] = 1.0
    start = np.clip(np.full(n, problem.budget / n), problem.lower, problem.upper)
    constraints = [
        {"type": "ineq", "fun": lambda x: problem.budget - x.sum(), "jac": lambda x: -np.ones(n)},
        {"type": "ineq", "fun": lambda x: problem.caps - members @ x, "jac": lambda x: -members},
    ]
    started = time.perf_counter()
    found = minimize(
        lambda x: -float(expected_conversions(problem.params, x) @ problem.weights),
        start,
        jac=lambda x: -marginal_conversions(problem.params, np.maximum(x, 1e-12)) * problem.weights,
        method="SLSQP",
        bounds=list(zip(problem.lower, problem.upper, strict=True)),
        constraints=constraints,
        options={"maxiter": maxiter, "ftol": 1e-9},
    )
    return np.asarray(found.x, dtype=np.float64), found, time.perf_counter() - started


@case("solver_slsqp")
def solver_slsqp(*, entities: int, maxiter: int = 200, workdir: str) -> dict[str, Any]:
    """scipy's SLSQP against the LP on the same grouped problem: quality, time and feasibility."""
    from optimizer.solver import allocate

    problem = build_problem(entities)
    best = objective(problem, exact_optimum(problem))
    started = time.perf_counter()
    result = allocate(problem.table, problem.request)
    lp_s = time.perf_counter() - started
    lp_spend = _recommended(problem, result.entities)
    spend, found, slsqp_s = _slsqp(problem, maxiter)
    groups = np.bincount(problem.group, weights=spend, minlength=len(problem.caps))
    return {
        "entities": entities,
        "lp_seconds": lp_s,
        "lp_objective_ratio": objective(problem, lp_spend) / best,
        "lp_gap_to_exact": 1 - objective(problem, lp_spend) / best,
        "slsqp_seconds": slsqp_s,
        "slsqp_objective_ratio": objective(problem, spend) / best,
        "slsqp_gap_to_exact": 1 - objective(problem, spend) / best,
        "slsqp_iterations": int(found.nit),
        "slsqp_converged": bool(found.success),
        "slsqp_message": str(found.message),
        "slsqp_unspent_share": max(0.0, problem.budget - float(spend.sum())) / problem.budget,
        "slsqp_budget_overshoot": max(0.0, float(spend.sum()) - problem.budget),
        "slsqp_max_bound_violation": float(
            max(np.max(problem.lower - spend), np.max(spend - problem.upper), 0.0)
        ),
        "slsqp_max_group_overshoot": float(max(np.max(groups - problem.caps), 0.0)),
    }


@case("solver_frontier")
def solver_frontier(*, entities: int, points: int = 20, workdir: str) -> dict[str, Any]:
    """`budget_frontier` over `points` budgets (0.55x-1.5x of the current total), each point's
    expected conversions against the exact optimum at that budget."""
    from optimizer.solver import budget_frontier

    problem = build_problem(entities)
    total = float(problem.table["current_spend"].sum())
    budgets = [total * f for f in np.linspace(0.55, 1.5, points)]
    started = time.perf_counter()
    frontier = budget_frontier(problem.table, problem.request, [round(b * 1e6) for b in budgets])
    elapsed = time.perf_counter() - started
    frame = frontier.points
    assert bool(frame["feasible"].all()), frame
    started = time.perf_counter()
    exact = [objective(problem, exact_optimum(problem, budget)) for budget in frame["budget"]]
    ratios = frame["expected_conversions"].to_numpy(dtype=np.float64) / np.array(exact)
    return {
        "entities": entities,
        "points": len(frame),
        "seconds": elapsed,
        "per_point_ms": 1000 * elapsed / len(frame),
        **{key: float(value) for key, value in frontier.timings.items()},
        "min_objective_ratio": float(ratios.min()),
        "median_objective_ratio": float(np.median(ratios)),
        "exact_s": time.perf_counter() - started,
    }


def _highs_direct(program: Any, options: dict[str, Any]) -> tuple[float, float, float]:
    from optimizer.solver.backends import open_session

    started = time.perf_counter()
    session = open_session(program, "highs", highs_options=options)
    built = time.perf_counter()
    solution = session.solve()
    solved = time.perf_counter()
    value = float(program.costs @ solution.values) + program.offset
    return built - started, solved - built, value


def _pulp(program: Any, use_cbc: bool) -> tuple[float, float, float]:
    import pulp

    from optimizer.solver.backends import build_pulp_model

    started = time.perf_counter()
    model = build_pulp_model(program)
    built = time.perf_counter()
    solver: Any
    if use_cbc:
        solver = pulp.COIN_CMD(path=getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None), msg=False)
    else:
        solver = pulp.HiGHS(msg=False, solver="ipm", presolve="off", run_crossover="off")
    with tempfile.TemporaryDirectory() as folder:
        solver.tmpDir = folder
        model.problem.solve(solver)
    solved = time.perf_counter()
    values = np.array([v.varValue or 0.0 for v in model.variables])
    return built - started, solved - built, float(program.costs @ values) + program.offset


@case("solver_lp_backends")
def solver_lp_backends(*, entities: int, workdir: str) -> dict[str, Any]:
    """The 20-group LP (no refinement) per candidate: build and solve seconds, and LP objective
    relative to the chosen HiGHS options (`*_vs_chosen`, 1.0 = the same optimum)."""
    from optimizer.solver.prepare import prepare

    problem = build_problem(entities)
    program = prepare(problem.table, problem.request).program
    runs: dict[str, tuple[float, float, float]] = {}
    for name, options in _HIGHS_VARIANTS.items():
        if entities <= _SIMPLEX_LIMIT or options.get("solver") != "simplex":
            runs[name] = _highs_direct(program, options)
    runs["pulp_cbc"] = _pulp(program, use_cbc=True)
    runs["pulp_highs_ipm"] = _pulp(program, use_cbc=False)
    chosen = runs["highs_ipm_no_presolve_chosen"][2]
    metrics: dict[str, Any] = {"entities": entities, "lp_columns": program.columns}
    for name, (build_s, solve_s, value) in runs.items():
        metrics[f"{name}_build_s"] = build_s
        metrics[f"{name}_solve_s"] = solve_s
        metrics[f"{name}_vs_chosen"] = value / chosen
    return metrics


def _s_shaped(table: pd.DataFrame, share: float = 1 / 3, seed: int = 3) -> pd.DataFrame:
    """`table` with `share` of its entities S-shaped (Hill shape 1.5-3, same k and scale)."""
    rng = np.random.default_rng(seed)
    shaped = rng.uniform(size=len(table)) < share
    shape = rng.uniform(1.5, 3.0, len(table))
    out = table.copy()
    out["family"] = np.where(shaped, "s_hill", out["family"])
    for prefix in ("", "low_", "high_"):
        out[f"{prefix}s"] = np.where(shaped, shape, out[f"{prefix}s"])
    return out


@case("solver_s_shapes")
def solver_s_shapes(*, entities: int, workdir: str) -> dict[str, Any]:
    """`solver_allocate`'s problem with a third of the curves S-shaped: `allocate` end to end (a
    minimum efficient spend or none per S-shaped entity: HiGHS branch and cut up to 20,000 columns,
    relax-and-fix above), the same problem all concave for comparison, and the integer answer's
    objective against its relaxation (the problem on concave envelopes, an upper bound)."""
    import dataclasses as dc

    from optimizer.solver import allocate
    from optimizer.solver.backends import MIP_COLUMN_LIMIT, open_session
    from optimizer.solver.prepare import prepare

    problem = build_problem(entities)
    table = _s_shaped(problem.table)
    started = time.perf_counter()
    result = allocate(table, problem.request)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    allocate(problem.table, problem.request)
    concave_s = time.perf_counter() - started
    program = prepare(table, problem.request).program
    started = time.perf_counter()
    integer = open_session(program, problem.request.solver).solve()
    integer_s = time.perf_counter() - started
    relaxed = open_session(dc.replace(program, integral=None), problem.request.solver).solve()
    value = float(program.costs @ integer.values) + program.offset
    bound = float(program.costs @ relaxed.values) + program.offset
    binary = program.integral if program.integral is not None else np.zeros(0, dtype=bool)
    return {
        "entities": entities,
        "s_shaped": int((table["family"] == "s_hill").sum()),
        "binary_columns": int(binary.sum()),
        "lp_columns": program.columns,
        "path": "branch and cut" if program.columns <= MIP_COLUMN_LIMIT else "relax and fix",
        "seconds": elapsed,
        "all_concave_seconds": concave_s,
        "integer_solve_s": integer_s,
        "gap_to_relaxation": 1.0 - value / bound,
        "budget_used": float(result.entities["recommended_spend"].sum()) / problem.budget,
    }
