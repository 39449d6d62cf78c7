"""User-facing spellings of solver options, parsed once: "brand=Brand*:30%", "min-cost", "1.234,50".

The CLI passes strings from the command line; everything here turns them into the solver's typed
`AllocationRequest` or raises `InvalidInputError` naming the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from optimizer.errors import InvalidInputError
from optimizer.money import decimal_to_micros
from optimizer.schema import MICROS
from optimizer.solver import AllocationRequest, Group, Objective

__all__ = ["build_request", "parse_amount", "parse_group", "parse_objective"]

_GROUP = re.compile(
    r"^(?P<name>[^=]+)=(?P<pattern>.+):(?P<op>>=|<=)?(?P<limit>[0-9.]+)(?P<pct>%)?$"
)


def parse_amount(text: str, *, field: str) -> float:
    """A money amount as typed ("5000", "5,000.00") -> currency units, exact to micros."""
    micros = decimal_to_micros(text.replace(",", "").strip(), field=field)
    if micros < 0:
        raise InvalidInputError(f"{field} must not be negative, got '{text}'")
    return micros / MICROS


def parse_objective(text: str) -> Objective:
    """conversions | value | profit | min-cost (min_cost accepted too)."""
    value = text.strip().lower().replace("-", "_")
    if value not in ("conversions", "value", "profit", "min_cost"):
        raise InvalidInputError(
            f"unknown objective '{text}'; use conversions, value, profit or min-cost"
        )
    return cast(Objective, value)


def parse_group(spec: str) -> Group:
    """NAME=PATTERN:LIMIT, LIMIT a share ("30%") or an amount ("1500"); ">=" makes it a floor.

    PATTERN is a case-insensitive glob on campaign names: `brand=Brand*:30%` keeps campaigns whose
    name starts with "Brand" at or below 30% of the total; `generic=*Generic*:>=500` gives them at
    least 500 a day.
    """
    match = _GROUP.match(spec.strip())
    if match is None:
        raise InvalidInputError(
            f"group '{spec}' is not NAME=PATTERN:LIMIT (e.g. brand=Brand*:30% or "
            "generic=*Generic*:>=500)"
        )
    limit = float(match["limit"])
    floor = match["op"] == ">="
    share = limit / 100 if match["pct"] else None
    amount = None if match["pct"] else limit
    return Group(
        name=match["name"].strip(),
        match=match["pattern"].strip(),
        max_share=None if floor else share,
        max_amount=None if floor else amount,
        min_share=share if floor else None,
        min_amount=amount if floor else None,
    )


def build_request(
    currency: str,
    *,
    budget: str | None = None,
    objective: str = "conversions",
    margin: float | None = None,
    conversions_target: float | None = None,
    max_change: float | None = None,
    groups: Sequence[str] = (),
    target_cpa: float | None = None,
    target_roas: float | None = None,
    conservative: bool = False,
    allow_new: bool = False,
    budget_field: str = "budget",
) -> AllocationRequest:
    """The solver request from user spellings (CLI flags or API JSON), validated once here."""
    return AllocationRequest(
        currency=currency,
        budget=parse_amount(budget, field=budget_field) if budget else None,
        objective=parse_objective(objective),
        margin=margin,
        conversions_target=conversions_target,
        max_change=max_change,
        groups=tuple(parse_group(g) for g in groups),
        target_cpa=target_cpa,
        target_roas=target_roas,
        conservative=conservative,
        allow_new=allow_new,
    )
