"""The bad-input corpus (tests/data/bad) as test cases any test module can parametrize over.

    from tests.badinputs import ACCEPTED, REJECTED, ROW_REJECTED, cases, params

    @pytest.mark.parametrize("case", params(REJECTED))
    def test_api_refuses_it(case: BadInput, tmp_path: Path) -> None:
        data = case.materialise(tmp_path).read_bytes()

`manifest.json` (written by tests/data/bad/make_corpus.py) is the single source of truth; see the
README there for what each outcome means and why each case expects what it does.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

__all__ = [
    "ACCEPTED",
    "CORPUS",
    "OUTCOMES",
    "REJECTED",
    "ROW_REJECTED",
    "BadInput",
    "build",
    "cases",
    "generator_manifest",
    "params",
]

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
REJECTED = "rejected"
"""The whole file is refused with one message; nothing is stored."""
ROW_REJECTED = "row_rejected"
"""Some row is wrong: refused whole by default naming its line; --partial stores the others."""
ACCEPTED = "accepted"
"""Odd-looking but valid: stored (possibly with warnings)."""
OUTCOMES = (REJECTED, ROW_REJECTED, ACCEPTED)


@dataclass(frozen=True)
class BadInput:
    """One corpus case: the file, the expected outcome and the text its message must contain."""

    file: str
    outcome: str
    message: str
    description: str
    line: int | None
    stored: int
    generated: bool
    detail: str | None

    def materialise(self, directory: Path) -> Path:
        """The file's path: the committed one, or built into `directory` if it is generated."""
        if not self.generated:
            return CORPUS / self.file
        target = directory / self.file
        if not target.exists():
            target.write_bytes(build(self.file))
        return target


@functools.cache
def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bad_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through it
    spec.loader.exec_module(module)
    return module


def build(name: str) -> bytes:
    """A case's bytes straight from the generator (what the committed file must equal)."""
    data: bytes = _generator().build(name)
    return data


def generator_manifest() -> list[dict[str, Any]]:
    """The manifest the generator would write now."""
    return [asdict(case) for case in _generator().CASES]


@functools.cache
def cases(*outcomes: str) -> tuple[BadInput, ...]:
    """Every case with one of `outcomes` (all cases when none is given), in manifest order."""
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome(s): {', '.join(sorted(unknown))}")
    entries = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    loaded = tuple(BadInput(**entry) for entry in entries)
    return tuple(case for case in loaded if not outcomes or case.outcome in outcomes)


def params(*outcomes: str) -> list[Any]:
    """`cases(...)` as pytest params whose ids are the file names."""
    return [pytest.param(case, id=case.file) for case in cases(*outcomes)]
