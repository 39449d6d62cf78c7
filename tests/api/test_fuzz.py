"""Schema fuzzing: every operation of the app's own OpenAPI schema, with a key of every role.

Schemathesis draws valid (positive) and invalid (negative) requests per operation; each one is
sent to a real server with the admin, manager, finance and script keys. No answer may be a 500,
and every answer must be documented: its status, its content type, its body schema.

The normal suite runs a few derandomized examples per operation; `PPCOPT_FUZZ_EXAMPLES=N` runs N
(still derandomized, so a failure replays).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from optimizer.access import Role
from optimizer.settings import Settings
from optimizer.usecases.keys import create_key, list_keys
from tests.api.harness import ADMIN, Server, running_server, seed, store
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS

EXAMPLES = int(os.environ.get("PPCOPT_FUZZ_EXAMPLES", "0") or 0)
_QUICK = EXAMPLES <= 0
ROLES = ("admin", "manager", "finance", "script")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_SLOW = {"POST /v1/accounts/{account}/fits", "POST /v1/accounts/{account}/jobs/nightly/run"}
"""Operations that refit (seconds each): fewer examples in the quick run."""


AMOUNT_FIELDS = frozenset({"amount", "budget", "budgets", "monthly_cap", "target_cpa"})
"""Request fields that carry an amount as text: fuzzed with `_amounts` as well as any string."""

_AMOUNT_FORMAT = "ppcopt-amount"

_EDGE_AMOUNTS = (
    *("1e400", "1E+400", "-1e400", "1e30", "1e18", "999999999999.99", "1000000000000.000001"),
    *("9" * 40, "1e-400", "1e-9", "0.0000001", "-0", "-0.0", "+0", "0e0", "-0e-0"),
    *("1_000", "1__0", "_1", "1_", "1e1_0", "Infinity", "-inf", "NaN", "sNaN", "0x10", "1e"),
    *("1,000.00", "1.000,00", "1 000", "\u0661\u066c\u0660\u0660\u0660", "\uff11\uff10"),
    *("€5", "5 EUR", " 7 ", ""),
)
"""Numbers that broke or nearly broke a parser somewhere: huge, tiny, signed zeros, exponents,
underscores, non-finite, other digits and separators."""

_amounts = st.one_of(
    st.sampled_from(_EDGE_AMOUNTS),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers().map(lambda i: f"{i:_}"),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**6), 10**6), st.integers(-999, 999)),
).map(lambda text: text[:40])


def _tag_amounts(node: Any, field: str | None = None) -> None:
    """Mark every string schema under an amount field with the amount format (in the copy of the
    schema the fuzzer reads; the served schema is unchanged)."""
    if isinstance(node, dict):
        if field in AMOUNT_FIELDS and node.get("type") == "string" and "format" not in node:
            node["format"] = _AMOUNT_FORMAT
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    _tag_amounts(sub, name)
            elif key in ("anyOf", "oneOf", "allOf", "items"):
                _tag_amounts(value, field)
            else:
                _tag_amounts(value, None)
    elif isinstance(node, list):
        for item in node:
            _tag_amounts(item, field)


@cache
def _schema() -> Any:
    raw = create_app(Settings(database_url="sqlite://")).openapi()
    schemathesis.openapi.format(_AMOUNT_FORMAT, _amounts)
    tagged = copy.deepcopy(raw)
    for name, component in tagged["components"]["schemas"].items():
        if not name.endswith("Out"):
            _tag_amounts(component)
    return schemathesis.openapi.from_dict(tagged)


@cache
def _operations() -> dict[str, Any]:
    found = {}
    for result in _schema().get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/ui"):
            found[operation.label] = operation
    return found


@cache
def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation with valid data; those that take input with invalid data too."""
    paths = _schema().raw_schema["paths"]
    cases = []
    for label in sorted(_operations()):
        method, path = label.split(" ", 1)
        entry = paths[path][method.lower()]
        cases.append((label, GenerationMode.POSITIVE))
        if entry.get("requestBody") or any(_negatable(p) for p in entry.get("parameters", [])):
            cases.append((label, GenerationMode.NEGATIVE))
    return cases


def _negatable(parameter: dict[str, Any]) -> bool:
    """False for a parameter any string satisfies (there is no invalid value to send)."""
    schema = {k: v for k, v in parameter.get("schema", {}).items() if k != "title"}
    return schema not in ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})


def _examples(label: str) -> int:
    if not _QUICK:
        return EXAMPLES
    return 1 if label in _SLOW else 3


@pytest.fixture(
    scope="module",
    params=BACKENDS,
)
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A store of its own: the fuzzer creates accounts, caps and keys, and revokes keys."""
    workdir: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with store(request.param, workdir, POSTGRES_URL) as (engine, env):
        keys, end = seed(engine, workdir)
        with running_server(env, workdir) as base:
            yield Server(base_url=base, keys=keys, engine=engine, history_end=end, env=env)


def _throwaway_key(server: Server) -> int:
    key, _ = create_key(server.engine, ADMIN, role=Role.SCRIPT, label="fuzz", all_accounts=True)
    return key.id


def _aim(case: Any, server: Server, account: str | None, protected: frozenset[int]) -> None:
    """Point some cases at the seeded accounts, and never revoke a key the test itself uses."""
    params = case.path_parameters
    if account is not None and "account" in params:
        params["account"] = account
    if params.get("key_id") in protected:
        params["key_id"] = _throwaway_key(server)
    for name in list(case.headers or {}):
        if name.lower() in ("authorization", "x-api-key"):
            del case.headers[name]


def test_amount_fields_are_fuzzed_with_edge_numbers() -> None:
    """Every amount field of a request body carries the amount format, so the fuzzer sends it
    1e400, -0, 1_000 and friends, not only random text."""
    schemas = _schema().raw_schema["components"]["schemas"]
    tagged = {
        (name, field)
        for name, schema in schemas.items()
        for field, sub in schema.get("properties", {}).items()
        if _AMOUNT_FORMAT in str(sub)
    }
    assert {("CapIn", "amount"), ("OptimizationIn", "monthly_cap")} <= tagged
    assert {("FrontierIn", "budgets"), ("RecommendationIn", "budget")} <= tagged
    assert not any(name.endswith("Out") for name, _ in tagged)


@pytest.mark.parametrize(("label", "mode"), _cases(), ids=[f"{o}-{m}" for o, m in _cases()])
def test_operation_conforms(fuzz_server: Server, label: str, mode: GenerationMode) -> None:
    operation = _operations()[label]
    protected = frozenset(k.id for k in list_keys(fuzz_server.engine, ADMIN) if k.label in ROLES)
    headers = {role: {"Authorization": f"Bearer {fuzz_server.keys[role]}"} for role in ROLES}

    @settings(
        max_examples=_examples(label),
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate] if _QUICK else list(Phase),
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        account=st.sampled_from(["acme", "globex", None]),
    )
    def run(case: Any, account: str | None) -> None:
        _aim(case, fuzz_server, account, protected)
        for role in ROLES:
            case.call_and_validate(
                base_url=fuzz_server.base_url, headers=headers[role], checks=CHECKS, timeout=120
            )

    run()
