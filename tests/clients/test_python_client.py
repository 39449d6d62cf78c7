"""clients/python/ppcopt_client.py against a fake API (httpx.MockTransport) and, when
PPCOPT_TEST_BASE_URL / PPCOPT_TEST_KEY / PPCOPT_TEST_ACCOUNT are set, against a real server."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest


def _load_client() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "clients" / "python" / "ppcopt_client.py"
    spec = importlib.util.spec_from_file_location("ppcopt_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pc = _load_client()

KEY = "k-acme"
OTHER_KEY = "k-other"
BASE = "https://ppcopt.test/api"

_ROW = {
    "date": "2026-12-02",
    "campaign": "Brand",
    "ad_group": "",
    "keyword": "",
    "match_type": "",
    "current_spend": "120.00",
    "recommended_spend": "131.50",
    "change_pct": 9.58,
    "expected_conversions": 12.3,
    "expected_conversions_low": 10.1,
    "expected_conversions_high": 14.0,
    "expected_value": 950.2,
    "marginal_cpa": 14.2,
    "bound": "none",
}
PLAN: dict[str, Any] = {
    "id": 12,
    "account": "acme",
    "date": "2026-12-02",
    "level": "campaign",
    "currency": "EUR",
    "created_at": "2026-12-01T05:31:02Z",
    "cap": {
        "id": 3,
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "amount": "30000.00",
        "currency": "EUR",
        "status": "approved",
    },
    "budget": "980.00",
    "total_recommended": "979.95",
    "rows": [
        _ROW,
        {
            **_ROW,
            "campaign": "PMax Sale",
            "current_spend": "848.45",
            "recommended_spend": "848.45",
            "change_pct": None,
            "marginal_cpa": None,
            "bound": "max_change",
            "campaign_id": "9001",
        },
    ],
}
CSV = (
    "date,campaign,ad_group,keyword,match_type,current_spend,recommended_spend,change_pct\r\n"
    "2026-12-02,Brand,,,,120.00,131.50,9.58\r\n"
)


def _etag(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'


def _error(status: int, code: str, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "detail": detail})


class FakeApi:
    """The contract's happy path and its error statuses; records every request it saw."""

    def __init__(self, plans: dict[str, str]) -> None:
        self.plans = plans
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        prefix = "/api/v1/accounts/"
        suffix = "/recommendations/latest"
        raw = request.url.raw_path.decode().split("?")[0]
        if not (raw.startswith(prefix) and raw.endswith(suffix)):
            return _error(404, "not_found", "no route")
        account = httpx.URL(raw).path[len(prefix) : -len(suffix)]
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if key not in (KEY, OTHER_KEY):
            return _error(401, "unauthorized", "unknown API key")
        if key == OTHER_KEY:
            return _error(403, "forbidden", f"key may not read {account}")
        if account == "nocap":
            return _error(409, "conflict", "no approved cap")
        if account == "broken":
            return httpx.Response(500, text="Internal Server Error")
        if account not in self.plans:
            return _error(404, "not_found", "nothing published")
        fmt = request.url.params["format"]
        body = self.plans[account] if fmt == "json" else CSV
        etag = _etag(fmt + body)
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        media = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
        return httpx.Response(200, text=body, headers={"ETag": etag, "Content-Type": media})


@pytest.fixture
def api() -> FakeApi:
    return FakeApi({"acme": json.dumps(PLAN), "shop de/x": json.dumps({**PLAN, "rows": []})})


def _client(api: FakeApi, key: str = KEY) -> Any:
    return pc.PpcoptClient(BASE + "/", key, transport=httpx.MockTransport(api))


def test_latest_recommendation_parses_the_contract(api: FakeApi) -> None:
    with _client(api) as client:
        rec = client.latest_recommendation("acme")
    request = api.requests[0]
    assert request.url.path == "/api/v1/accounts/acme/recommendations/latest"
    assert dict(request.url.params) == {"level": "campaign", "format": "json"}
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert "If-None-Match" not in request.headers
    assert rec.etag == _etag("json" + json.dumps(PLAN))
    assert (rec.id, rec.account, rec.date, rec.currency) == (12, "acme", date(2026, 12, 2), "EUR")
    assert rec.created_at == datetime(2026, 12, 1, 5, 31, 2, tzinfo=UTC)
    assert rec.budget == Decimal("980.00")
    assert rec.total_recommended == Decimal("979.95")
    assert rec.cap == pc.Cap(
        3, date(2026, 12, 1), date(2026, 12, 31), Decimal("30000.00"), "EUR", "approved"
    )
    assert [r.campaign for r in rec.rows] == ["Brand", "PMax Sale"]
    assert sum(r.recommended_spend for r in rec.rows) == Decimal("979.95")
    assert rec.rows[0].campaign_id is None
    assert rec.rows[1].campaign_id == "9001"
    assert rec.rows[1].change_pct is None
    assert rec.rows[0].expected_conversions_high == pytest.approx(14.0)


def test_account_is_quoted_as_one_path_segment(api: FakeApi) -> None:
    with _client(api) as client:
        rec = client.latest_recommendation("shop de/x", level="keyword")
    assert rec.rows == ()
    assert api.requests[0].url.raw_path.startswith(b"/api/v1/accounts/shop%20de%2Fx/")
    assert api.requests[0].url.params["level"] == "keyword"


@pytest.mark.parametrize(
    ("etag_of", "unchanged"),
    [
        pytest.param(json.dumps(PLAN), True, id="same-etag-304"),
        pytest.param("an older plan", False, id="stale-etag-200"),
    ],
)
def test_conditional_get(api: FakeApi, etag_of: str, unchanged: bool) -> None:
    sent = _etag("json" + etag_of)
    with _client(api) as client:
        rec = client.latest_recommendation("acme", etag=sent)
    assert api.requests[0].headers["If-None-Match"] == sent
    assert (rec is None) is unchanged
    if rec is not None:
        assert rec.etag == _etag("json" + json.dumps(PLAN))


def test_csv_and_its_conditional_get(api: FakeApi) -> None:
    with _client(api) as client:
        first = client.latest_csv("acme")
        again = client.latest_csv("acme", etag=first.etag)
    assert first.text.splitlines()[0].startswith("date,campaign,ad_group,keyword,match_type,")
    assert first.etag == _etag("csv" + CSV)
    assert again is None
    assert [r.url.params["format"] for r in api.requests] == ["csv", "csv"]


@pytest.mark.parametrize(
    ("key", "account", "error", "status", "code", "detail"),
    [
        pytest.param("nope", "acme", "AuthError", 401, "unauthorized", "unknown API key", id="401"),
        pytest.param(OTHER_KEY, "acme", "AuthError", 403, "forbidden", "key may not", id="403"),
        pytest.param(
            KEY, "empty", "NotFoundError", 404, "not_found", "nothing published", id="404"
        ),
        pytest.param(KEY, "nocap", "ConflictError", 409, "conflict", "no approved cap", id="409"),
        pytest.param(
            KEY, "broken", "ApiError", 500, "http_error", "Internal Server", id="500-text"
        ),
    ],
)
def test_error_statuses_raise_typed_errors(
    api: FakeApi, key: str, account: str, error: str, status: int, code: str, detail: str
) -> None:
    with _client(api, key) as client, pytest.raises(pc.ApiError) as caught:
        client.latest_recommendation(account)
    assert type(caught.value) is getattr(pc, error)
    assert isinstance(caught.value, pc.PpcoptError)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.detail.startswith(detail)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<html>login</html>", id="not-json"),
        pytest.param(json.dumps([PLAN]), id="json-list"),
        pytest.param(json.dumps({**PLAN, "budget": 980.0}), id="money-as-float"),
        pytest.param(json.dumps({k: v for k, v in PLAN.items() if k != "rows"}), id="no-rows"),
    ],
)
def test_malformed_200_raises_response_format_error(body: str) -> None:
    with _client(FakeApi({"acme": body})) as client, pytest.raises(pc.ResponseFormatError):
        client.latest_recommendation("acme")


_REAL = {k: os.environ.get(f"PPCOPT_TEST_{k}") for k in ("BASE_URL", "KEY", "ACCOUNT")}


@pytest.mark.skipif(not all(_REAL.values()), reason="PPCOPT_TEST_BASE_URL/KEY/ACCOUNT not set")
def test_against_real_server() -> None:
    base, key, account = (str(_REAL[k]) for k in ("BASE_URL", "KEY", "ACCOUNT"))
    with pc.PpcoptClient(base, key) as client:
        rec = client.latest_recommendation(account)
        assert rec.account == account
        assert rec.etag
        assert sum(r.recommended_spend for r in rec.rows) == rec.total_recommended
        assert rec.total_recommended <= rec.budget
        assert client.latest_recommendation(account, etag=rec.etag) is None
        csv = client.latest_csv(account)
        assert csv.text.splitlines()[0].startswith("date,campaign,")
        assert len(csv.text.strip().splitlines()) == len(rec.rows) + 1
    with pc.PpcoptClient(base, key + "-wrong") as wrong, pytest.raises(pc.AuthError):
        wrong.latest_recommendation(account)
