"""Where benchmark cases register (apart from `bench.case`, which runs as __main__)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["CASES", "case"]

Case = Callable[..., dict[str, Any]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn

    return register
