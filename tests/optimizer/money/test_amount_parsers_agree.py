"""Every door that takes an amount reads the same text as the same micros (or refuses it alike):
the budget, the target CPA, group limits, budget lists and caps all go through one grammar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.errors import InvalidInputError
from optimizer.money import parse_amount
from optimizer.requests import build_request, parse_amount_list, parse_group
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import propose_cap

_DIGITS = {
    "ascii": "0123456789",
    "persian": "".join(chr(0x06F0 + d) for d in range(10)),
    "arabic": "".join(chr(0x0660 + d) for d in range(10)),
}


@st.composite
def _typed_amounts(draw: st.DrawFn) -> str:
    """Numbers as people type them: grouped or not, either decimal mark, other digits, codes."""
    script = draw(st.sampled_from(sorted(_DIGITS)))
    whole = draw(st.integers(min_value=0, max_value=10**13))
    group = draw(st.sampled_from(["", ",", ".", " ", "\u00a0", "'", "\u066c"]))
    text = f"{whole:,}".replace(",", group) if group else str(whole)
    if draw(st.booleans()):
        decimals = draw(st.text(alphabet="0123456789", min_size=1, max_size=8))
        text += draw(st.sampled_from([".", ",", "\u066b"])) + decimals
    text = text.translate(str.maketrans("0123456789", _DIGITS[script]))
    if draw(st.booleans()):
        code = draw(st.sampled_from(["EUR", "€", "$", "USD", "ریال"]))
        text = draw(st.sampled_from([f"{code} {text}", f"{text} {code}", f"{code}{text}"]))
    return draw(st.sampled_from([text, f"-{text}", f" {text} ", text.replace("0", "O", 1)]))


_AMOUNTS = _typed_amounts() | st.text(max_size=12) | st.sampled_from(["5.000", "1,234", "1e400"])


def _outcome(read: Callable[[], int | None]) -> int | str:
    try:
        value = read()
    except InvalidInputError:
        return "refused"
    assert value is not None
    return value


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("agree") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    yield engine
    engine.dispose()


@pytest.mark.parametrize("decimal_comma", [None, True, False], ids=["unsaid", "comma", "point"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_AMOUNTS)
def test_every_amount_parser_reads_the_same_micros(text: str, decimal_comma: bool | None) -> None:
    expected = _outcome(lambda: parse_amount(text, field="x", decimal_comma=decimal_comma))
    doors: dict[str, Callable[[], int | None]] = {
        "budget": lambda: (
            build_request("EUR", budget=text, decimal_comma=decimal_comma).budget_micros
        ),
        "group-cap": lambda: (
            parse_group(f"g=*:{text}", decimal_comma=decimal_comma).max_amount_micros
        ),
        "group-floor": lambda: (
            parse_group(f"g=*:>={text}", decimal_comma=decimal_comma).min_amount_micros
        ),
    }
    lone = ";" not in text and "," not in text and not any(c.isspace() for c in text.strip())
    if lone and decimal_comma is None:
        doors["budget-list"] = lambda: _single(parse_amount_list(text, field="x"))
    if ":" in text or text.strip().startswith(">=") or text.strip().endswith("%"):
        doors.pop("group-cap")
        doors.pop("group-floor")
    outcomes = {name: _outcome(read) for name, read in doors.items()}
    target = _outcome(
        lambda: build_request("EUR", target_cpa=text, decimal_comma=decimal_comma).target_cpa_micros
    )
    assert target == ("refused" if expected == 0 else expected)
    assert outcomes == dict.fromkeys(outcomes, expected)


def _single(amounts: list[int]) -> int:
    (only,) = amounts
    return only


@pytest.mark.parametrize("decimal_comma", [None, True], ids=["unsaid", "comma"])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_typed_amounts())
def test_caps_read_amounts_like_every_other_door(
    engine: Engine, text: str, decimal_comma: bool | None
) -> None:
    expected = _outcome(lambda: parse_amount(text, field="amount", decimal_comma=decimal_comma))
    day = dt.date(2027, 1, 1)
    proposer = system_principal("cli:maria", Role.MANAGER)
    got = _outcome(
        lambda: propose_cap(
            engine, proposer, "shop", period_start=day, period_end=day, amount=text,
            currency="EUR", decimal_comma=decimal_comma,
        ).amount_micros
    )  # fmt: skip
    on_grid = isinstance(expected, int) and expected > 0 and expected % 10_000 == 0
    assert got == (expected if on_grid else "refused")
