"""User-facing spellings of solver options, parsed once: "brand=Brand*:30%", "min-cost", "1.234,50".

The CLI passes strings from the command line and the API strings from JSON; everything here turns
them into the solver's typed `AllocationRequest` or raises `InvalidInputError` naming the bad value.
Every amount goes through `optimizer.money.parse_amount` (one grammar, exact micros), with
`decimal_comma` from a flag, the request or the account's locale.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import cast

from optimizer.errors import InvalidInputError
from optimizer.money import parse_amount, parse_share
from optimizer.solver import AllocationRequest, Bounds, Group, Objective

__all__ = [
    "build_request",
    "parse_amount_list",
    "parse_bounds",
    "parse_group",
    "parse_objective",
]

_GROUP = re.compile(r"^(?P<name>[^=]+)=(?P<pattern>.+):(?P<op>>=|<=)?(?P<limit>[^:]+)$")


def parse_objective(text: str) -> Objective:
    """conversions | value | profit | min-cost (min_cost accepted too)."""
    value = text.strip().lower().replace("-", "_")
    if value not in ("conversions", "value", "profit", "min_cost"):
        raise InvalidInputError(
            f"unknown objective '{text}'; use conversions, value, profit or min-cost"
        )
    return cast(Objective, value)


def parse_group(spec: str, *, decimal_comma: bool | None = None) -> Group:
    """NAME=PATTERN:LIMIT, LIMIT a share ("30%") or an amount ("1500"); ">=" makes it a floor.

    PATTERN is a case-insensitive glob on campaign names: `brand=Brand*:30%` keeps campaigns whose
    name starts with "Brand" at or below 30% of the total; `generic=*Generic*:>=500` gives them at
    least 500 a day. The limit is read like every amount ("1.500,50" with a decimal comma).
    """
    match = _GROUP.match(spec.strip())
    if match is None:
        raise InvalidInputError(
            f"group '{spec}' is not NAME=PATTERN:LIMIT (e.g. brand=Brand*:30% or "
            "generic=*Generic*:>=500)"
        )
    name, limit = match["name"].strip(), match["limit"].strip()
    field = f"group '{name}' limit"
    floor = match["op"] == ">="
    share = amount = None
    if limit.endswith("%"):
        share = parse_share(limit, field=field, decimal_comma=decimal_comma)
    else:
        amount = parse_amount(limit, field=field, decimal_comma=decimal_comma)
    return Group(
        name=name,
        match=match["pattern"].strip(),
        max_share=None if floor else share,
        max_amount_micros=None if floor else amount,
        min_share=share if floor else None,
        min_amount_micros=amount if floor else None,
    )


def parse_amount_list(text: str, *, field: str, decimal_comma: bool | None = None) -> list[int]:
    """Several amounts in one text, in micros: separated by ";" or spaces, or by "," when commas
    cannot be decimal marks ("2000,4000,6000"; with a decimal comma write "2000;4000,5")."""
    if ";" in text or decimal_comma:
        parts = re.split(r"[;\s]+", text)
    elif re.search(r"\s", text.strip()):
        parts = text.split()
    else:
        parts = text.split(",")
    amounts = [
        parse_amount(part, field=field, decimal_comma=decimal_comma)
        for part in parts
        if part.strip()
    ]
    if not amounts:
        raise InvalidInputError(f"{field} lists no amounts")
    return amounts


def parse_bounds(
    campaign: str,
    low: str | None,
    high: str | None,
    *,
    decimal_comma: bool | None = None,
) -> Bounds:
    """A campaign's daily spend range from two amounts, either left out (None or blank)."""
    amounts = [
        parse_amount(text, field=f"campaign '{campaign}' {side}", decimal_comma=decimal_comma)
        if text is not None and text.strip()
        else None
        for text, side in ((low, "minimum"), (high, "maximum"))
    ]
    try:
        return Bounds(minimum_micros=amounts[0], maximum_micros=amounts[1])
    except InvalidInputError as exc:
        raise InvalidInputError(f"campaign '{campaign}': {exc.message}") from exc


def build_request(
    currency: str,
    *,
    budget: str | None = None,
    objective: str = "conversions",
    margin: float | None = None,
    conversions_target: float | None = None,
    max_change: float | None = None,
    groups: Sequence[str] = (),
    target_cpa: str | None = None,
    target_roas: float | None = None,
    conservative: bool = False,
    allow_new: bool = False,
    budget_field: str = "budget",
    decimal_comma: bool | None = None,
    campaign_bounds: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> AllocationRequest:
    """The solver request from user spellings (CLI flags or API JSON), validated once here."""
    return AllocationRequest(
        currency=currency,
        budget_micros=(
            parse_amount(budget, field=budget_field, decimal_comma=decimal_comma)
            if budget is not None
            else None
        ),
        objective=parse_objective(objective),
        margin=margin,
        conversions_target=conversions_target,
        max_change=max_change,
        groups=tuple(parse_group(g, decimal_comma=decimal_comma) for g in groups),
        target_cpa_micros=(
            parse_amount(target_cpa, field="target CPA", decimal_comma=decimal_comma)
            if target_cpa is not None
            else None
        ),
        target_roas=target_roas,
        conservative=conservative,
        allow_new=allow_new,
        campaign_bounds={
            name: parse_bounds(name, low, high, decimal_comma=decimal_comma)
            for name, (low, high) in (campaign_bounds or {}).items()
            if (low or "").strip() or (high or "").strip()
        },
    )
