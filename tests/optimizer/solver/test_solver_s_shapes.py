"""S-shaped curves in the allocator: a minimum efficient spend or none, solved exactly.

An S-shaped (`s_hill`) entity's first column is the chord from its lower bound to where that chord
touches the curve, taken whole or not at all; small programmes go to HiGHS's branch and cut, large
ones are relaxed and fixed. Both must reach the same optimum, and the answer must never leave an
S-shaped entity on the convex stretch of its curve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest, Bounds, allocate, backends, budget_frontier
from optimizer.solver.backends import available_solvers, open_session
from optimizer.solver.curves import EntityCurves
from optimizer.solver.prepare import prepare
from optimizer.solver.segments import entry_points
from tests.optimizer.solver.solver_helpers import curve_values, random_table


def s_table(n: int, seed: int, share: float = 0.4) -> pd.DataFrame:
    """`random_table` with `share` of the Hill entities turned S-shaped (shape 1.5-3), their scale
    set so the average cost per conversion at current spend stays 5-100."""
    table = random_table(n, seed, families=("hill",))
    rng = np.random.default_rng(seed + 1000)
    shaped = rng.uniform(size=n) < share
    s = rng.uniform(1.5, 3.0, n)
    k = table["current_spend"].to_numpy() * rng.uniform(0.7, 1.6, n)
    cpa = rng.uniform(5.0, 100.0, n)
    x = table["current_spend"].to_numpy()
    a = x / cpa * (1 + (k / x) ** s)
    for prefix, factor in (("", 1.0), ("low_", 0.8), ("high_", 1.2)):
        table[f"{prefix}s"] = np.where(shaped, s, table[f"{prefix}s"])
        table[f"{prefix}k"] = np.where(shaped, k, table[f"{prefix}k"])
        table[f"{prefix}a"] = np.where(shaped, a * factor, table[f"{prefix}a"])
    table["family"] = np.where(shaped, "s_hill", "hill")
    return table


def _micros(amount: float) -> int:
    return round(round(amount, 2) * MICROS)


def _request(table: pd.DataFrame, fraction: float = 1.0, **extra: object) -> AllocationRequest:
    current = table["current_spend"].to_numpy()
    bounds = {
        e: Bounds(_micros(0.5 * c), _micros(1.5 * c))
        for e, c in zip(table["entity_id"], current, strict=True)
    }
    return AllocationRequest(
        currency="EUR",
        budget_micros=_micros(fraction * float(current.sum())),
        entity_bounds=bounds,
        **extra,  # type: ignore[arg-type]
    )


def _budget(request: AllocationRequest) -> float:
    return (request.budget_micros or 0) / MICROS


def _spend(table: pd.DataFrame, request: AllocationRequest) -> np.ndarray:
    entities = allocate(table, request).entities.set_index("entity_id")
    return entities["recommended_spend"].reindex(table["entity_id"]).to_numpy(dtype=np.float64)


@pytest.fixture(params=["branch-and-cut", "relax-and-fix"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "relax-and-fix":
        monkeypatch.setattr(backends, "MIP_COLUMN_LIMIT", 0)
    return str(request.param)


@pytest.mark.parametrize("refine", [True, False], ids=["refined", "first-answer"])
@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_an_s_shaped_entity_stays_low_or_passes_its_entry_point(seed, refine, path):
    table = s_table(120, seed)
    request = _request(table, fraction=0.9, refine=refine)
    spend = _spend(table, request)
    prepared = prepare(table, request)
    shaped = (table["family"] == "s_hill").to_numpy()
    entry = prepared.entry
    assert entry is not None
    low = prepared.bounds.lower
    jumps = shaped & (entry > low + 0.02)
    assert jumps.any()
    off = spend <= low + 0.011
    on = spend >= entry - 0.011
    assert np.all((off | on)[jumps])
    assert spend.sum() <= _budget(request) + 1e-9


def test_branch_and_cut_and_relax_and_fix_reach_the_same_optimum(monkeypatch):
    table = s_table(300, 7)
    request = _request(table, fraction=0.85, refine=False)
    program = prepare(table, request).program
    assert program.is_mip
    exact = open_session(program).solve()
    monkeypatch.setattr(backends, "MIP_COLUMN_LIMIT", 0)
    relaxed = open_session(program).solve()
    best = float(program.costs @ exact.values)
    assert float(program.costs @ relaxed.values) == pytest.approx(best, rel=1e-6)


def test_three_entities_match_a_brute_force_search(path):
    table = s_table(3, 11, share=0.0)
    table.loc[1, "family"] = "s_hill"
    for prefix in ("", "low_", "high_"):
        table.loc[1, f"{prefix}s"] = 2.5
    current = table["current_spend"].to_numpy()
    request = _request(table, fraction=1.0, tolerance=1e-5)
    spend = _spend(table, request)
    low, high = np.round(0.5 * current, 2), np.round(1.5 * current, 2)
    grid = np.linspace(low[0], high[0], 600)
    second = np.linspace(low[1], high[1], 600)
    first, middle = np.meshgrid(grid, second, indexing="ij")
    third = _budget(request) - first - middle
    ok = (third >= low[2]) & (third <= high[2])
    candidates = np.stack([first[ok], middle[ok], third[ok]], axis=1)
    values = EntityCurves.from_table(table).value(candidates.T).sum(axis=0)
    assert curve_values(table, spend).sum() >= values.max() * (1 - 1e-3)


def test_without_s_shapes_the_programme_has_no_binary_column():
    table = random_table(40, 3)
    program = prepare(table, _request(table)).program
    assert not program.is_mip


def test_entry_points_are_where_the_chord_touches_the_curve():
    table = s_table(60, 5)
    prepared = prepare(table, _request(table))
    lower, entry = prepared.bounds.lower, prepared.entry
    assert entry is not None
    curves = prepared.curves
    rows = np.flatnonzero((entry > lower + 1e-6) & (entry < prepared.bounds.upper - 1e-6))
    assert rows.size
    chord = (curves.value(entry) - curves.value(lower))[rows] / (entry - lower)[rows]
    np.testing.assert_allclose(curves.slope(entry)[rows], chord, rtol=1e-5)
    shaped = (table["family"] == "s_hill").to_numpy()
    again = entry_points(curves, lower, prepared.bounds.upper, np.zeros_like(shaped))
    np.testing.assert_array_equal(again, lower)


def test_a_larger_budget_never_lowers_the_frontier():
    table = s_table(80, 9)
    request = _request(table)
    current = float(table["current_spend"].sum())
    budgets = [_micros(f * current) for f in (0.7, 0.8, 0.9, 1.0, 1.1)]
    frontier = budget_frontier(table, request, budgets)
    conversions = frontier.points["expected_conversions"].to_numpy()
    assert np.all(np.diff(conversions) >= -1e-6 * conversions[:-1])


@pytest.mark.skipif("cbc" not in available_solvers(), reason="CBC is not installed")
def test_cbc_honours_the_binary_columns():
    table = s_table(40, 4)
    request = dataclasses.replace(_request(table, fraction=0.9, refine=False), solver="cbc")
    prepared = prepare(table, request)
    highs = open_session(prepared.program, "highs").solve()
    cbc = open_session(prepared.program, "cbc").solve()
    binary = prepared.program.integral
    assert binary is not None
    np.testing.assert_allclose(cbc.values[binary], np.round(cbc.values[binary]), atol=1e-6)
    best = float(prepared.program.costs @ highs.values)
    assert float(prepared.program.costs @ cbc.values) == pytest.approx(best, rel=1e-4)
