"""Every route x role x own/other account, generated from the app's routes.

A route without a rule in RULES fails `test_every_route_has_a_rule`, so a new route cannot ship
without deciding who may call it. Allowed calls must not answer 401/403/404; forbidden roles get
403; a key scoped to the other account gets 404 (the account's existence is private); no key 401.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

import httpx
import pytest

from api.app import create_app
from optimizer.settings import Settings
from tests.api.harness import Server

A, M, F, S = "admin", "manager", "finance", "script"
ALL = frozenset({A, M, F, S})

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/accounts"): ALL,
    ("POST", "/v1/accounts"): frozenset({A}),
    ("GET", "/v1/accounts/{account}"): ALL,
    ("PUT", "/v1/accounts/{account}/locale"): frozenset({A}),
    ("GET", "/v1/accounts/{account}/policy"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/accuracy"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/experiments"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/experiments/suggestions"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/reports/{period}"): frozenset({A, M, F}),
    ("PUT", "/v1/accounts/{account}/policy"): frozenset({A, M}),
    ("PUT", "/v1/accounts/{account}/structure"): frozenset({A, M, S}),
    ("POST", "/v1/accounts/{account}/performance"): frozenset({A, M, S}),
    ("POST", "/v1/performance"): frozenset({A, M, S}),
    ("POST", "/v1/accounts/{account}/fits"): frozenset({A, M}),
    ("GET", "/v1/accounts/{account}/curves"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/curves/{entity_id}"): frozenset({A, M, F}),
    ("GET", "/v1/accounts/{account}/curves/{entity_id}/plot.png"): frozenset({A, M, F}),
    ("POST", "/v1/accounts/{account}/optimizations"): frozenset({A, M, F}),
    ("POST", "/v1/accounts/{account}/frontier"): frozenset({A, M, F}),
    ("POST", "/v1/accounts/{account}/caps"): frozenset({M, F}),
    ("GET", "/v1/accounts/{account}/caps"): frozenset({A, M, F}),
    ("GET", "/v1/caps/{cap_id}"): frozenset({A, M, F}),
    ("POST", "/v1/caps/{cap_id}/approve"): frozenset({F}),
    ("POST", "/v1/caps/{cap_id}/reject"): frozenset({F}),
    ("POST", "/v1/accounts/{account}/recommendations"): frozenset({A, M}),
    ("GET", "/v1/accounts/{account}/recommendations"): ALL,
    ("GET", "/v1/accounts/{account}/recommendations/latest"): ALL,
    ("GET", "/v1/audit"): frozenset({A, F}),
    ("GET", "/v1/keys"): frozenset({A}),
    ("POST", "/v1/keys"): frozenset({A}),
    ("DELETE", "/v1/keys/{key_id}"): frozenset({A}),
    ("GET", "/v1/jobs/runs"): frozenset({A, M, F}),
    ("POST", "/v1/accounts/{account}/jobs/nightly/run"): frozenset({A, M}),
    ("GET", "/v1/accounts/{account}/events"): frozenset({A, M, F}),
    ("POST", "/v1/accounts/{account}/events"): frozenset({A, M}),
    ("DELETE", "/v1/accounts/{account}/events/{event_id}"): frozenset({A, M}),
    ("POST", "/v1/accounts/{account}/events/{event_id}/confirm"): frozenset({A, M}),
    ("POST", "/v1/accounts/{account}/events/{event_id}/dismiss"): frozenset({A, M}),
}

MATRIX_STRUCTURE = {
    "campaigns": [
        {
            "campaign_id": "1",
            "campaign": "Matrix",
            "budget_id": "11",
            "budget_amount_micros": 1_000_000,
            "budget_explicitly_shared": False,
            "bidding_strategy_type": "MANUAL_CPC",
        }
    ]
}
"""A structure naming no campaign of the seeded accounts: it changes no plan of other tests."""

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/docs/assets/{name}",
}
"""No key needed and no account data behind them. `/ui` pages have their own session tests."""


@cache
def _api_routes() -> frozenset[tuple[str, str]]:
    """Every operation the app serves, from its own OpenAPI schema."""
    app = create_app(Settings(database_url="sqlite://"))
    found = set()
    for path, operations in app.openapi()["paths"].items():
        if path in PUBLIC or path.startswith("/ui"):
            continue
        for method in operations:
            found.add((method.upper(), path))
    return frozenset(found)


def test_every_route_has_a_rule() -> None:
    routes = _api_routes()
    missing = sorted(routes - set(RULES))
    assert not missing, f"routes without an authorization rule: {missing}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"rules for routes the app does not serve: {stale}"


def _body(method: str, path: str, day: dt.date, role: str) -> dict[str, Any]:
    if path == "/v1/accounts":
        return {
            "json": {
                "name": f"matrix-{role}-{day.toordinal()}-{id(path)}",
                "currency": "EUR",
                "timezone": "UTC",
            }
        }
    if path.endswith("/locale"):
        # None: the account keeps no locale, as created, so later tests that read amounts in it
        # (e.g. "100.001 reads two ways") see the account they expect.
        return {"json": {"locale": None}}
    if path.endswith("/policy"):
        return {"json": {}}
    if path.endswith("/structure"):
        return {"json": MATRIX_STRUCTURE}
    if path.endswith("/performance"):
        text = "date,campaign,spend,clicks,impressions,conversions,conversion_value\n"
        text += f"{day.isoformat()},Matrix,1.00,1,10,0,0\n"
        return {"content": text.encode(), "headers": {"Content-Type": "text/csv"}}
    if path.endswith("/optimizations"):
        return {"json": {"budget": "100.00", "level": "campaign"}}
    if path.endswith("/frontier"):
        return {"json": {"budgets": ["50", "100"]}}
    if path.endswith("/caps") and method == "POST":
        return {
            "json": {
                "period_start": day.isoformat(),
                "period_end": day.isoformat(),
                "amount": "10.00",
                "currency": "{currency}",
            }
        }
    if path.endswith("/recommendations") and method == "POST":
        return {"json": {"date": day.isoformat()}}
    if path.endswith("/events") and method == "POST":
        return {"json": {"start": day.isoformat(), "end": day.isoformat(), "kind": "promo"}}
    if path == "/v1/keys" and method == "POST":
        return {"json": {"role": "script", "label": "matrix", "accounts": ["acme"]}}
    if method == "POST":
        return {"json": {}}
    return {}


@pytest.fixture(scope="module")
def targets(server: Server) -> dict[str, dict[str, Any]]:
    """Per account: a cap id and an entity id to put in paths."""
    out: dict[str, dict[str, Any]] = {}
    day = server.history_end + dt.timedelta(days=200)
    for account, proposer, currency in (("acme", "manager", "EUR"), ("globex", "manager_b", "USD")):
        with server.client(proposer) as client:
            caps = []
            for _ in range(4):
                body = {
                    "period_start": day.isoformat(),
                    "period_end": day.isoformat(),
                    "amount": "1.00",
                    "currency": currency,
                }
                caps.append(client.post(f"/v1/accounts/{account}/caps", json=body).json()["id"])
            entity = client.get(f"/v1/accounts/{account}/curves", params={"limit": 1}).json()[0][
                "entity_id"
            ]
        out[account] = {"caps": caps, "entity_id": entity, "currency": currency}
    published = server.history_end + dt.timedelta(days=100)
    with server.client("manager") as manager, server.client("finance") as finance:
        body = {
            "period_start": published.isoformat(),
            "period_end": published.isoformat(),
            "amount": "1000.00",
            "currency": "EUR",
        }
        cap = manager.post("/v1/accounts/acme/caps", json=body).json()["id"]
        assert finance.post(f"/v1/caps/{cap}/approve").status_code == 200
        rec = manager.post(
            "/v1/accounts/acme/recommendations", json={"date": published.isoformat()}
        )
        assert rec.status_code == 201, rec.text
    return out


def _cases() -> list[Any]:
    cases = []
    for (method, path), allowed in sorted(RULES.items()):
        for role in (A, M, F, S, "none"):
            for scope in ("own", "other"):
                scoped = any(p in path for p in ("{account}", "{cap_id}", "{entity_id}"))
                if scope == "other" and (not scoped or role in (A, "none")):
                    continue
                cases.append(
                    pytest.param(
                        method, path, role, scope, allowed, id=f"{method} {path} {role} {scope}"
                    )
                )
    return cases


def _new_event(server: Server, account: str, key: str = "manager") -> int:
    """A fresh event of the account for one call (deleting or deciding uses one up)."""
    day = server.history_end + dt.timedelta(days=10)
    body = {"start": day.isoformat(), "end": day.isoformat(), "kind": "exclude"}
    with server.client(key) as client:
        response = client.post(f"/v1/accounts/{account}/events", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


_KEY = {A: "admin", M: "manager", F: "finance2", S: "script"}
_OTHER_KEY = {M: "manager_b", F: "finance_b", S: "script_b"}


@pytest.mark.parametrize(("method", "path", "role", "scope", "allowed"), _cases())
def test_route_role_matrix(
    server: Server,
    targets: dict[str, dict[str, Any]],
    method: str,
    path: str,
    role: str,
    scope: str,
    allowed: frozenset[str],
) -> None:
    scoped = "{account}" in path or "{cap_id}" in path or "{entity_id}" in path
    if scope == "other" and (not scoped or role in (A, "none")):
        pytest.skip("admin keys see every account; unscoped routes have no other account")
    # The key is always an acme key (or a globex key for "other"); the path always names acme.
    key = None if role == "none" else (_KEY[role] if scope == "own" else _OTHER_KEY[role])
    account = "acme"
    target = targets[account]
    cap_index = {"approve": 0, "reject": 1}.get(path.rsplit("/", 1)[-1], 2)
    concrete = (
        path.replace("{account}", account)
        .replace("{cap_id}", str(target["caps"][cap_index]))
        .replace("{entity_id}", target["entity_id"])
        .replace("{key_id}", "999999")
        .replace("{period}", "2026-11")
    )
    if "{event_id}" in path:
        concrete = concrete.replace("{event_id}", str(_new_event(server, account)))
    day = server.history_end + dt.timedelta(days=300)
    kwargs = _body(method, path, day, role)
    if "json" in kwargs and kwargs["json"].get("currency") == "{currency}":
        kwargs["json"]["currency"] = target["currency"]
    with server.client(key) as client:
        response = client.request(method, concrete, **kwargs)
    status = response.status_code
    assert status != 500, response.text
    if key is None:
        assert status == 401, response.text
    elif role not in allowed:
        assert status == 403, response.text
    elif scope == "other":
        assert status == 404, response.text
    elif path == "/v1/keys/{key_id}":
        assert status == 404  # allowed, but there is no such key
    else:
        assert status not in (401, 403, 404), response.text
    assert "detail" in response.json() if status >= 400 else True


_QUERIED: dict[tuple[str, str], str] = {
    ("GET", "/v1/audit"): "query",
    ("GET", "/v1/jobs/runs"): "query",
    ("POST", "/v1/performance"): "report",
}
"""Routes that name an account outside their path: in a query parameter or in the file."""


def _hiding_cases() -> list[Any]:
    cases = []
    for (method, path), allowed in sorted(RULES.items()):
        if not any(p in path for p in ("{account}", "{cap_id}")) and (method, path) not in _QUERIED:
            continue
        for role in (M, F, S):
            cases.append(pytest.param(method, path, role, allowed, id=f"{method} {path} {role}"))
    return cases


def _named(
    server: Server, targets: dict[str, dict[str, Any]], method: str, path: str, name: str
) -> tuple[str, dict[str, Any], str]:
    """The request naming account `name` (globex, or a name no account has), and the id it puts
    in the path for a cap (a globex cap, or an id no cap has)."""
    target = targets["globex"]
    cap_index = {"approve": 0, "reject": 1}.get(path.rsplit("/", 1)[-1], 2)
    cap_id = str(target["caps"][cap_index]) if name == "globex" else str(2**62 - 7)
    concrete = (
        path.replace("{account}", name)
        .replace("{cap_id}", cap_id)
        .replace("{entity_id}", target["entity_id"])
    )
    if "{event_id}" in path:
        concrete = concrete.replace("{event_id}", str(_new_event(server, "globex", "manager_b")))
    day = server.history_end + dt.timedelta(days=300)
    kwargs = _body(method, path, day, "hiding")
    if "json" in kwargs and kwargs["json"].get("currency") == "{currency}":
        kwargs["json"]["currency"] = target["currency"]
    kind = _QUERIED.get((method, path))
    if kind == "query":
        kwargs["params"] = {"account": name}
    elif kind == "report":
        past = server.history_end
        text = f"Account,Day,Campaign,Cost,Clicks,Impr.,Conversions\n{name},{past},X,1.00,1,10,0\n"
        kwargs = {"content": text.encode(), "headers": {"Content-Type": "text/csv"}}
    return concrete, kwargs, cap_id


@pytest.mark.parametrize(("method", "path", "role", "allowed"), _hiding_cases())
def test_another_accounts_things_answer_as_if_they_did_not_exist(
    server: Server,
    targets: dict[str, dict[str, Any]],
    method: str,
    path: str,
    role: str,
    allowed: frozenset[str],
) -> None:
    """An acme key asking for globex's account (or cap) gets the status and words a name (or id)
    that nothing has gets; a role that may not call the route gets 403 either way, before any
    account is looked up."""
    answers = []
    for name in ("globex", "nosuch"):
        concrete, kwargs, cap_id = _named(server, targets, method, path, name)
        with server.client(_KEY[role]) as client:
            response = client.request(method, concrete, **kwargs)
        assert response.status_code != 500, response.text
        text = response.text.replace(name, "<account>")
        if "{cap_id}" in path:
            text = text.replace(cap_id, "<id>")
        answers.append((response.status_code, text))
    assert answers[0] == answers[1]
    assert answers[0][0] == (403 if role not in allowed else answers[0][0])
    assert answers[0][0] in (403, 404, 422), answers[0]


D = frozenset({A, M, F})
"""The roles that may sign in to the dashboard (a script key cannot)."""

UI_RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/ui/accounts"): D,
    ("GET", "/ui/accounts/{account}"): D,
    ("GET", "/ui/accounts/{account}/curves/{entity_id}"): D,
    ("GET", "/ui/accounts/{account}/frontier"): D,
    ("GET", "/ui/accounts/{account}/accuracy"): D,
    ("GET", "/ui/accounts/{account}/reports/{period}"): D,
    ("GET", "/ui/accounts/{account}/caps"): D,
    ("POST", "/ui/accounts/{account}/caps"): frozenset({M, F}),
    ("GET", "/ui/caps/{cap_id}"): D,
    ("POST", "/ui/caps/{cap_id}/decision"): frozenset({F}),
    ("GET", "/ui/jobs"): D,
    ("GET", "/ui/jobs/{run_id}"): D,
    ("GET", "/ui/accounts/{account}/upload"): frozenset({A, M}),
    ("POST", "/ui/accounts/{account}/upload"): frozenset({A, M}),
    ("GET", "/ui/accounts/{account}/whatif"): D,
    ("POST", "/ui/accounts/{account}/whatif"): D,
    ("POST", "/ui/accounts/{account}/policy"): frozenset({A, M}),
    ("GET", "/ui/accounts/{account}/plan"): D,
    ("GET", "/ui/accounts/{account}/plan/download"): D,
    ("POST", "/ui/accounts/{account}/publish"): frozenset({A, M}),
    ("POST", "/ui/accounts/{account}/nightly"): frozenset({A, M}),
}
"""The dashboard's pages: the same rights as the API's routes they stand for."""

UI_PUBLIC = {
    "/ui",
    "/ui/",
    "/ui/signin",
    "/ui/signout",
    "/ui/static/ui.css",
    "/ui/static/ui.js",
    # The identity provider's sign-in and its return: no session yet; 404 unless configured
    # (tests/ui/test_oidc_signin.py holds what they accept and refuse).
    "/ui/signin/oidc",
    "/ui/signin/oidc/callback",
}


@cache
def _ui_routes() -> frozenset[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://"))
    found = set()
    for route in app.routes:
        # FastAPI 0.165 keeps included routers whole; their routes are the effective contexts.
        expand = getattr(route, "effective_route_contexts", None)
        for one in expand() if expand is not None else [route]:
            path = getattr(one, "path", "")
            if path.startswith("/ui") and path not in UI_PUBLIC:
                found.update(
                    (m, path) for m in (getattr(one, "methods", None) or ()) if m != "HEAD"
                )
    return frozenset(found)


def test_every_dashboard_page_has_a_rule() -> None:
    routes = _ui_routes()
    assert not sorted(routes - set(UI_RULES)), "dashboard pages without a rule"
    assert not sorted(set(UI_RULES) - routes), "rules for pages the dashboard does not serve"


def _ui_client(server: Server, key: str | None) -> tuple[httpx.Client, str]:
    """A browser-like client signed in through the form (or not), and a form token."""
    client = httpx.Client(base_url=server.base_url, timeout=120)
    page = client.get("/ui/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    if key is None:
        return client, token.group(1)
    answer = client.post(
        "/ui/signin",
        data={"key": server.keys[key], "csrf": token.group(1)},
        follow_redirects=True,
    )
    assert answer.status_code == 200, answer.text  # followed to the accounts page
    signed = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    assert signed is not None
    return client, signed.group(1)


@pytest.fixture(scope="module")
def ui_targets(server: Server, targets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A nightly run of acme for the run page, and proposed caps to decide."""
    with server.client("admin") as admin:
        run = admin.post("/v1/accounts/acme/jobs/nightly/run")
        assert run.status_code == 201, run.text
    day = server.history_end + dt.timedelta(days=250)
    body = {"period_start": day.isoformat(), "period_end": day.isoformat(), "amount": "1.00"}
    with server.client("manager") as manager:
        caps = [
            manager.post("/v1/accounts/acme/caps", json={**body, "currency": "EUR"}).json()["id"]
            for _ in range(3)
        ]
    return {"run": run.json()["id"], "caps": caps, **targets["acme"]}


def _ui_cases() -> list[Any]:
    cases = []
    for (method, path), allowed in sorted(UI_RULES.items()):
        for role in (A, M, F, "none"):
            for scope in ("own", "other"):
                scoped = any(p in path for p in ("{account}", "{cap_id}", "{run_id}"))
                if scope == "other" and (not scoped or role in (A, "none")):
                    continue
                cases.append(
                    pytest.param(
                        method, path, role, scope, allowed, id=f"{method} {path} {role} {scope}"
                    )
                )
    return cases


def _ui_request(
    method: str, path: str, token: str, day: dt.date
) -> tuple[dict[str, Any], dict[str, str]]:
    """The request's body and query for one page."""
    form: dict[str, Any] = {"csrf": token}
    if path.endswith("/caps") and method == "POST":
        form.update(period_start=day.isoformat(), period_end=day.isoformat(), amount="5")
    if path.endswith("/decision"):
        form["decision"] = "approve"
    if path.endswith("/upload") and method == "POST":
        text = f"date,campaign,spend,clicks,impressions,conversions\n{day},UI Matrix,1.00,1,9,0\n"
        return {"data": form, "files": {"file": ("m.csv", text.encode(), "text/csv")}}, {}
    query = {"account": "acme"} if path.endswith("{run_id}") else {}
    return ({"data": form} if method == "POST" else {}), query


@pytest.mark.parametrize(("method", "path", "role", "scope", "allowed"), _ui_cases())
def test_dashboard_role_matrix(
    server: Server,
    ui_targets: dict[str, Any],
    method: str,
    path: str,
    role: str,
    scope: str,
    allowed: frozenset[str],
) -> None:
    """Allowed: neither 401, 403 nor 404; a role without the right: 403; a key of the other
    account: 404, as for a page that is not there; no session: the sign-in page (401)."""
    key = None if role == "none" else (_KEY[role] if scope == "own" else _OTHER_KEY[role])
    cap_index = 0 if path.endswith("/decision") else 1
    concrete = (
        path.replace("{account}", "acme")
        .replace("{cap_id}", str(ui_targets["caps"][cap_index]))
        .replace("{entity_id}", ui_targets["entity_id"])
        .replace("{period}", "2026-11")
        .replace("{run_id}", str(ui_targets["run"]))
    )
    client, token = _ui_client(server, key)
    kwargs, query = _ui_request(method, path, token, server.history_end + dt.timedelta(days=320))
    try:
        response = client.request(method, concrete, params=query, **kwargs)
    finally:
        client.close()
    status = response.status_code
    assert status != 500, response.text
    if key is None:
        assert status == 401, response.text[:500]
    elif role not in allowed:
        assert status == 403, response.text[:500]
    elif scope == "other":
        assert status == 404, response.text[:500]
    else:
        assert status not in (401, 403, 404), response.text[:2000]
