"""The bad-input corpus (tests/data/bad) uploaded over HTTP: refused clearly, nothing stored.

Every file the ingest refuses (whole, or by default for one bad row) must get a 4xx whose body
names the reason (and the line, where the manifest gives one), never a 500, and leave every table
of the store exactly as it was. CSV answers of the API neutralise formula-looking names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from optimizer.access import Role
from optimizer.usecases.accounts import create_account
from optimizer.usecases.keys import create_key
from tests.api.harness import ADMIN, running_server, store
from tests.badinputs import CORPUS, REJECTED, ROW_REJECTED, BadInput, params
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS, dump

ACCOUNT = "shop"
INJECTED = "injected"


class Store:
    def __init__(self, engine: Engine, base_url: str, keys: dict[str, str]) -> None:
        self.engine = engine
        self.base_url = base_url
        self.keys = keys

    def client(self, role: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=120)


@pytest.fixture(
    scope="module",
    params=BACKENDS,
)
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A server over a store with two empty accounts and a key per role."""
    workdir = tmp_path_factory.mktemp(f"bad-{request.param}")
    with store(request.param, workdir, POSTGRES_URL) as (engine, env):
        create_account(engine, ACCOUNT, currency="EUR", timezone="UTC")
        create_account(engine, INJECTED, currency="EUR", timezone="UTC")
        keys = {}
        for role, label in ((Role.MANAGER, "manager"), (Role.FINANCE, "finance")):
            keys[label] = create_key(engine, ADMIN, role=role, label=label, all_accounts=True)[1]
        keys["finance2"] = create_key(
            engine, ADMIN, role=Role.FINANCE, label="finance2", all_accounts=True
        )[1]
        with running_server(env, workdir) as base:
            yield Store(engine, base, keys)


def _upload(shop: Store, case: BadInput, tmp_path: Path) -> httpx.Response:
    data = case.materialise(tmp_path).read_bytes()
    with shop.client("manager") as client:
        return client.post(
            f"/v1/accounts/{ACCOUNT}/performance",
            files={"file": (case.file, data, "text/csv")},
        )


@pytest.mark.parametrize("case", params(REJECTED))
def test_bad_file_is_refused_with_its_reason(shop: Store, case: BadInput, tmp_path: Path) -> None:
    before = dump(shop.engine)
    response = _upload(shop, case, tmp_path)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert case.message in body["detail"], body
    assert body["hint"]
    assert dump(shop.engine) == before


@pytest.mark.parametrize("case", params(ROW_REJECTED))
def test_bad_row_refuses_the_file_and_names_its_line(
    shop: Store, case: BadInput, tmp_path: Path
) -> None:
    before = dump(shop.engine)
    response = _upload(shop, case, tmp_path)
    assert response.status_code == 422, response.text
    body = response.json()
    named = [i for i in body["issues"] if i["line"] == case.line and i["severity"] == "error"]
    assert named, body
    assert any(case.message in i["text"] for i in named), body
    assert case.detail is None or case.detail in response.text
    assert dump(shop.engine) == before


def _approved_cap(shop: Store, start: dt.date, end: dt.date) -> None:
    body = {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "amount": "100000.00",
        "currency": "EUR",
    }
    with shop.client("finance") as finance, shop.client("finance2") as finance2:
        proposed = finance.post(f"/v1/accounts/{INJECTED}/caps", json=body)
        assert proposed.status_code == 201, proposed.text
        approved = finance2.post(f"/v1/caps/{proposed.json()['id']}/approve")
        assert approved.status_code == 200, approved.text


@pytest.mark.parametrize("level", ["campaign", "keyword"])
def test_recommendation_csv_neutralises_formulas(shop: Store, level: str) -> None:
    with shop.client("manager") as manager:
        latest = manager.get(f"/v1/accounts/{INJECTED}/recommendations/latest")
        if latest.status_code == 404:
            data = (CORPUS / "formula_injection.csv").read_bytes()
            uploaded = manager.post(
                f"/v1/accounts/{INJECTED}/performance",
                content=data,
                headers={"Content-Type": "text/csv"},
            )
            assert uploaded.status_code == 200, uploaded.text
            assert manager.post(f"/v1/accounts/{INJECTED}/fits").status_code == 201
            day = dt.date.today() + dt.timedelta(days=1)
            _approved_cap(shop, day, day + dt.timedelta(days=9))
            published = manager.post(
                f"/v1/accounts/{INJECTED}/recommendations", json={"date": day.isoformat()}
            )
            assert published.status_code == 201, published.text
        answer = manager.get(
            f"/v1/accounts/{INJECTED}/recommendations/latest",
            params={"format": "csv", "level": level},
        )
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    campaigns = {row["campaign"] for row in rows}
    assert '\'=HYPERLINK("http://x","y")' in campaigns, campaigns
    cells = [cell for row in rows for key, cell in row.items() if key not in _NUMERIC]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


_NUMERIC = {
    "date",
    "current_spend",
    "recommended_spend",
    "change_pct",
    "expected_conversions",
    "expected_conversions_low",
    "expected_conversions_high",
    "expected_value",
    "marginal_cpa",
}
