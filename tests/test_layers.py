"""The architecture as a test: shells over use cases over the store over a pure core.

import-linter checks the contracts in pyproject.toml (`[tool.importlinter]`). The injected-import
cases prove the contracts bite: a copy of the tree with one forbidden import added must fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
_PACKAGES = ("optimizer", "api", "jobs", "cli")
_LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(_LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_tree_keeps_every_contract() -> None:
    done = _lint(_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        pytest.param(
            "optimizer/solver/model.py",
            "import sqlalchemy",
            "imports no database",
            id="core-imports-sqlalchemy",
        ),
        pytest.param(
            "optimizer/models/curves.py",
            "import typer",
            "imports no database",
            id="core-imports-typer",
        ),
        pytest.param(
            "optimizer/planning.py",
            "import api.app",
            "never upwards",
            id="library-imports-the-api",
        ),
        pytest.param(
            "optimizer/usecases/fit.py",
            "import jobs.scheduler",
            "never upwards",
            id="library-imports-the-jobs",
        ),
        pytest.param(
            "optimizer/solver/curves.py",
            "import optimizer.models.curveset",
            "never upwards",
            id="solver-imports-models",
        ),
        pytest.param(
            "optimizer/curve_table.py",
            "import optimizer.models",
            "never upwards",
            id="lower-layer-imports-higher",
        ),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in _PACKAGES:
        shutil.copytree(
            _ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(f"{line}  # injected\n" + target.read_text(encoding="utf-8"), "utf-8")
    done = _lint(tmp_path)
    assert done.returncode != 0, done.stdout[-3000:]
    broken = [row for row in done.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), done.stdout[-3000:]
