"""Solver choice and fallback, status translation, clean temp folder and stdout, odd names."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from solver_helpers import random_table

import optimizer.solver.backends as backends
from optimizer.errors import SolverError
from optimizer.solver import AllocationRequest, allocate
from tests.optimizer.solver.solver_helpers import to_micros


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return random_table(30, seed=41)


def _request(table: pd.DataFrame, solver: str) -> AllocationRequest:
    budget = float(table["current_spend"].sum())
    return AllocationRequest(
        currency="EUR", budget_micros=to_micros(budget), max_change=0.5, solver=solver
    )


@pytest.mark.parametrize(
    ("asked", "present", "used"),
    [("highs", ("cbc",), "cbc"), ("cbc", ("highs",), "highs"), ("auto", ("cbc",), "cbc")],
    ids=["highs-missing", "cbc-missing", "auto-without-highs"],
)
def test_falls_back_with_a_warning(table, monkeypatch, caplog, asked, present, used) -> None:
    monkeypatch.setattr(backends, "available_solvers", lambda: present)
    with caplog.at_level(logging.WARNING, logger="optimizer.solver.backends"):
        result = allocate(table, _request(table, asked))
    assert result.solver == used
    assert f"using '{used}'" in caplog.text


def test_auto_prefers_highs(table) -> None:
    assert allocate(table, _request(table, "auto")).solver == "highs"


def test_no_solver_at_all_is_a_solver_error(table, monkeypatch) -> None:
    monkeypatch.setattr(backends, "available_solvers", lambda: ())
    with pytest.raises(SolverError, match="no LP solver is available"):
        allocate(table, _request(table, "auto"))


def test_highs_failure_becomes_a_solver_error(table, monkeypatch) -> None:
    monkeypatch.setattr(backends._HighsSession, "_run", lambda self: ("kSolveError", "Solve error"))
    with pytest.raises(SolverError, match=r"the LP solver \(highs\) failed"):
        allocate(table, _request(table, "highs"))


def test_cbc_failure_becomes_a_solver_error_and_leaves_no_files(
    table, monkeypatch, tmp_path: Path
) -> None:
    import pulp

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(self, lp, **kwargs):
        Path(self.tmpDir, "model-pulp.mps").write_text("half written")
        raise pulp.PulpSolverError("cbc crashed")

    monkeypatch.setattr(pulp.COIN_CMD, "actualSolve", broken)
    with pytest.raises(SolverError, match=r"the LP solver \(cbc\) failed: cbc crashed"):
        allocate(table, _request(table, "cbc"))
    assert list(tmp_path.iterdir()) == []


def test_cbc_leaves_no_temp_files(table, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    allocate(table, _request(table, "cbc"))
    assert list(tmp_path.iterdir()) == []


def test_names_that_clash_in_lp_files_do_not_matter(table) -> None:
    odd = table.copy()
    names = ["kw brand shoes", "kw_brand_shoes", "a-b+c[d]/e>f", "Ünïcødé ✓", "x" * 300]
    odd["campaign"] = [names[i % len(names)] for i in range(len(odd))]
    odd["keyword"] = odd["campaign"]
    for solver in ("highs", "cbc"):
        result = allocate(odd, _request(odd, solver))
        assert result.total_micros <= round(float(odd["current_spend"].sum()) * 1e6)


def test_highs_banner_does_not_reach_stdout() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from solver_helpers import random_table\n"
        "from optimizer.solver import AllocationRequest, allocate\n"
        "t = random_table(10, seed=1)\n"
        "request = AllocationRequest(currency='EUR', budget_micros=10**8, solver='highs')\n"
        "allocate(t, request)\n"
        "print('done')\n"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", script, here],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    assert out.stdout == "done\n"
