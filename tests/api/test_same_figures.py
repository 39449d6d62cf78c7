"""One keyword's figures read the same wherever they are shown: the CLI's CSV and JSON, the API's
JSON (what-if and published) and CSV, and the dashboard's curve page.

The plan is the same everywhere (one account, one curve set, one day, one budget: a one-day cap of
that amount); money is rounded down to the minor unit and conversions to two decimals once, in
`optimizer.report`, so every door must print the same digits.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from cli import main
from optimizer.access import Role, system_principal
from optimizer.settings import Settings, get_settings
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.keys import create_key
from optimizer.usecases.recommendations import publish
from tests.api.harness import add_fitted_account, store
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS
from tests.ui.conftest import sign_in

_BUDGET = "1234.56"
_FIGURES = ("current_spend", "recommended_spend", "expected_conversions")


@pytest.fixture(params=BACKENDS)
def shown(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[dict[str, dict[str, Decimal]]]:
    """Per door: the first keyword's three figures as the door writes them."""
    with store(request.param, tmp_path, POSTGRES_URL) as (engine, env):
        add_fitted_account(engine, tmp_path, "acme", "EUR", "UTC", seed=17)
        day = dt.date.today() + dt.timedelta(days=1)
        finance = [system_principal(f"cli:finance-{i}", Role.FINANCE) for i in (1, 2)]
        cap = propose_cap(engine, finance[0], "acme", period_start=day, period_end=day,
                          amount=_BUDGET, currency="EUR")  # fmt: skip
        decide_cap(engine, finance[1], cap.id, approve=True)
        published = publish(engine, system_principal("cli:maria", Role.MANAGER), "acme", day)
        _, key = create_key(engine, system_principal("cli:admin"), role=Role.MANAGER,
                            label="m", account_names=["acme"])  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        doors: dict[str, pd.DataFrame] = {}
        plan = ["optimize", "--account", "acme", "--budget", _BUDGET, "--date", day.isoformat()]
        assert main([*plan, "--format", "csv"]) == 0
        doors["cli-csv"] = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str)
        assert main([*plan, "--format", "json"]) == 0
        doors["cli-json"] = pd.DataFrame(json.loads(capsys.readouterr().out)).astype(str)
        settings = Settings(**{"database_url": env["PPCOPT_DATABASE_URL"],
                               "database_schema": env.get("PPCOPT_DATABASE_SCHEMA"),
                               "session_secret": "same-figures"})  # fmt: skip
        with TestClient(create_app(settings)) as client:
            auth = {"Authorization": f"Bearer {key}"}
            what_if = client.post(
                "/v1/accounts/acme/optimizations",
                json={"budget": _BUDGET, "date": day.isoformat()},
                headers=auth,
            )
            assert what_if.status_code == 200, what_if.text
            doors["api-json"] = pd.DataFrame(what_if.json()["rows"]).astype(str)
            latest = "/v1/accounts/acme/recommendations/latest"
            got = client.get(latest, params={"level": "keyword"}, headers=auth)
            doors["api-published-json"] = pd.DataFrame(got.json()["rows"]).astype(str)
            got = client.get(latest, params={"level": "keyword", "format": "csv"}, headers=auth)
            doors["api-csv"] = pd.read_csv(io.StringIO(got.text), dtype=str)
            figures = {door: _first_keyword(frame) for door, frame in doors.items()}
            entity = _entity_id(engine, published)
            sign_in(client, key)
            page = client.get(f"/ui/accounts/acme/curves/{entity}")
            assert page.status_code == 200, page.text
            figures["dashboard"] = _from_page(page.text)
        get_settings.cache_clear()
        yield figures


def _first_keyword(frame: pd.DataFrame) -> dict[str, Decimal]:
    keywords = frame[frame["keyword"].fillna("").astype(str).str.len() > 0]
    row = keywords.sort_values(["campaign", "ad_group", "keyword"]).iloc[0]
    return {name: Decimal(str(row[name]).replace(",", "")) for name in _FIGURES}


def _entity_id(engine, published) -> str:
    from optimizer.usecases.fit import latest_curves

    rows = pd.DataFrame(published.payload["keyword"])
    row = rows[rows["keyword"] != ""].sort_values(["campaign", "ad_group", "keyword"]).iloc[0]
    for curve in latest_curves(engine, "acme").curve_set:
        if (curve.key.campaign, curve.key.ad_group, curve.key.keyword) == (
            row["campaign"], row["ad_group"], row["keyword"]
        ):  # fmt: skip
            return curve.entity_id
    raise AssertionError("no curve for the published keyword")


def _from_page(html: str) -> dict[str, Decimal]:
    found = {}
    for name in _FIGURES:
        match = re.search(rf'data-figure="{name}">([0-9.,]+)', html)
        assert match is not None, f"{name} is not on the page"
        found[name] = Decimal(match.group(1).replace(",", ""))
    return found


def test_one_keyword_reads_the_same_in_every_door(shown: dict[str, dict[str, Decimal]]) -> None:
    reference = shown["cli-csv"]
    assert reference["recommended_spend"] > 0
    for name in _FIGURES:
        assert {door: figures[name] for door, figures in shown.items()} == dict.fromkeys(
            shown, reference[name]
        ), name
    for door, figures in shown.items():
        for name in ("current_spend", "recommended_spend"):
            assert figures[name] == figures[name].quantize(Decimal("0.01")), (door, name)
