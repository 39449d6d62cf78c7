"""The allocation LP at scale: build / solve / results per solver and options, and answer quality.

`run(sizes)` returns one dict per (size, variant):

* `allocate ...`: the product path end to end (prepare, LP, refining LP, rounding, rows) with a cap,
  max change 50%, trust regions and 20 group caps (by label), on the chosen solver (HiGHS direct);
* `quality ...`: the same without group caps, against the exact optimum (the simulator's bisection
  oracle on the same Hill curves): `objective_ratio` = expected conversions at the rounded answer /
  the exact optimum; `median_spend_error` = median |spend - exact spend| / exact spend over the
  entities strictly inside their bounds;
* `lp ...`: only the LP of the 20-group case (no refinement), built and solved by each candidate:
  HiGHS fed numpy arrays with several option sets, and PuLP's model (batch APIs) solved by CBC and
  by PuLP's HiGHS wrapper. `build_s` is the solver-side model build, `solve_s` the solve.

Run `python -m bench.solver_lp 1000 10000 100000` to print them.
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd

from optimizer.curve_table import CURVE_TABLE_COLUMNS
from optimizer.schema import EntityKey
from optimizer.simulate import CurveParams, optimal_allocation
from optimizer.solver import AllocationRequest, Group, allocate
from optimizer.solver.backends import build_pulp_model, open_session
from optimizer.solver.prepare import prepare

__all__ = ["make_case", "run"]

GROUPS = 20
ENTITIES_PER_CAMPAIGN = 20
SIMPLEX_LIMIT = 10_000
HIGHS_VARIANTS: dict[str, dict[str, Any]] = {
    "highs simplex (default options)": {"solver": "simplex"},
    "highs ipm, presolve rule 8192 off, no crossover": {
        "solver": "ipm",
        "run_crossover": "off",
        "presolve_rule_off": 8192,
    },
    "highs ipm, presolve off, no crossover (chosen)": {
        "solver": "ipm",
        "run_crossover": "off",
        "presolve": "off",
    },
    "highs ipm, presolve off, crossover": {"solver": "ipm", "presolve": "off"},
}


def make_case(n: int, seed: int = 1) -> tuple[pd.DataFrame, CurveParams, dict[str, str]]:
    """n Hill-curve entities in n/20 campaigns labelled into 20 groups, as a curve table and as
    the oracle's CurveParams (calendar factor 1, the table's multiplier passed as weights)."""
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


def _requests(
    table: pd.DataFrame, labels: dict[str, str]
) -> tuple[AllocationRequest, AllocationRequest]:
    budget = 0.9 * float(table["current_spend"].sum())
    plain = AllocationRequest(currency="EUR", budget_micros=round(budget * 1e6), max_change=0.5)
    by_group = table.groupby(table["campaign"].map(labels))["current_spend"].sum()
    groups = tuple(
        Group(
            str(name),
            str(name),
            by="label",
            max_amount_micros=round(float(spend) * (0.8 if i % 2 else 1.2) * 1e6),
        )
        for i, (name, spend) in enumerate(by_group.items())
    )
    return plain, dataclasses.replace(plain, groups=groups, campaign_labels=labels)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _end_to_end(table: pd.DataFrame, request: AllocationRequest, variant: str) -> dict[str, Any]:
    started = time.perf_counter()
    result = allocate(table, request)
    total = time.perf_counter() - started
    return {
        "variant": variant,
        "columns": result.columns,
        **{key: round(value, 3) for key, value in result.timings.items()},
        "total_s": round(total, 3),
        "objective": result.expected_conversions,
        "solver": result.solver,
    }


def _quality(
    table: pd.DataFrame, params: CurveParams, request: AllocationRequest, variant: str
) -> dict[str, Any]:
    row = _end_to_end(table, request, variant)
    prepared = prepare(table, request)
    cap = (prepared.budget_micros or 0) / 1e6
    weights = table["multiplier"].to_numpy()
    low, high = prepared.bounds.lower, prepared.bounds.upper
    started = time.perf_counter()
    exact = optimal_allocation(params, cap, low, high, weights=weights)
    row["exact_s"] = round(time.perf_counter() - started, 3)
    result = allocate(table, request)
    spend = result.entities["recommended_spend"].to_numpy()
    inside = (exact.allocation > low + 0.05) & (exact.allocation < high - 0.05)
    error = np.abs(spend - exact.allocation)[inside] / exact.allocation[inside]
    row["objective_ratio"] = result.expected_conversions / exact.objective
    row["median_spend_error"] = float(np.median(error)) if inside.any() else 0.0
    return row


def _highs_direct(program: Any, variant: str, options: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    session = open_session(program, "highs", highs_options=options)
    built = time.perf_counter()
    solution = session.solve()
    solved = time.perf_counter()
    return {
        "variant": f"lp {variant}",
        "columns": program.columns,
        "rows": len(program.rows),
        "build_s": round(built - started, 3),
        "solve_s": round(solved - built, 3),
        "lp_objective": float(program.costs @ solution.values) + program.offset,
    }


def _pulp(program: Any, variant: str) -> dict[str, Any]:
    import pulp

    started = time.perf_counter()
    model = build_pulp_model(program)
    built = time.perf_counter()
    if variant == "cbc":
        bundled = getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None)
        solver = pulp.COIN_CMD(path=bundled, msg=False)
    else:
        solver = pulp.HiGHS(msg=False, solver="ipm", presolve="off", run_crossover="off")
    with tempfile.TemporaryDirectory() as folder:
        solver.tmpDir = folder
        model.problem.solve(solver)
    solved = time.perf_counter()
    values = np.array([v.varValue or 0.0 for v in model.variables])
    name = "PuLP build + CBC" if variant == "cbc" else "PuLP build + HiGHS (ipm, presolve off)"
    return {
        "variant": f"lp {name}",
        "columns": program.columns,
        "rows": len(program.rows),
        "build_s": round(built - started, 3),
        "solve_s": round(solved - built, 3),
        "lp_objective": float(program.costs @ values) + program.offset,
    }


def run(sizes: list[int]) -> list[dict[str, Any]]:
    """One measurement per (size, variant); see the module docstring."""
    results: list[dict[str, Any]] = []
    for n in sizes:
        table, params, labels = make_case(n)
        plain, grouped = _requests(table, labels)
        rows = [
            _end_to_end(table, grouped, "allocate, 20 group caps (highs, refined)"),
            _end_to_end(
                table, dataclasses.replace(grouped, refine=False), "allocate, 20 group caps, one LP"
            ),
            _end_to_end(
                table, dataclasses.replace(grouped, solver="cbc"), "allocate, 20 group caps (cbc)"
            ),
            _quality(table, params, plain, "quality: cap + bounds (refined)"),
            _quality(table, params, dataclasses.replace(plain, refine=False), "quality: one LP"),
        ]
        program = prepare(table, grouped).program
        for variant, options in HIGHS_VARIANTS.items():
            if n <= SIMPLEX_LIMIT or options.get("solver") != "simplex":
                rows.append(_highs_direct(program, variant, options))
        rows.append(_pulp(program, "cbc"))
        rows.append(_pulp(program, "highs"))
        for row in rows:
            row["entities"] = n
            row["peak_rss_mib"] = round(_peak_mib())
        results.extend(rows)
    return results


def main(argv: list[str]) -> int:
    sizes = [int(arg) for arg in argv] or [1_000, 10_000]
    for row in run(sizes):
        print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
