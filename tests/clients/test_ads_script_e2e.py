"""The Google Ads script end to end: upload -> nightly job -> plan -> budgets, on a real server.

`ppcopt serve` runs on a free port over a temporary SQLite store; the script runs in node with
AdsApp / UrlFetchApp fakes (clients/google-ads-script/e2e), its HTTP going to that server. The
account's report rows are a simulated history written as AdsApp.report returns GAQL rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from optimizer.access import Role, system_principal
from optimizer.settings import Settings
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.keys import create_key
from optimizer.usecases.nightly import run_nightly
from tests.jobs.nightly_setup import approve_cap

NODE = shutil.which("node")
ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "clients" / "google-ads-script" / "e2e" / "upload_and_apply.test.js"
ADMIN = system_principal("e2e admin")
ACCOUNT = "shop"
START = dt.date(2026, 1, 20)
DAYS = 60
LAST = START + dt.timedelta(days=DAYS - 1)  # 2026-03-20: yesterday for the script's runs
LAG_DAY = LAST - dt.timedelta(days=1)

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    port = _free_port()
    env = {**os.environ, "PPCOPT_DATABASE_URL": url, "PPCOPT_INBOX": str(tmp_path / "inbox")}
    upgrade(make_engine(url))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("ppcopt serve did not come up")
        yield base, url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _fixture() -> dict[str, Any]:
    """The account as the fakes show it: campaigns with budgets, and GAQL report rows."""
    sim = simulate(campaigns=2, keywords_per_campaign=3, days=DAYS, seed=5, start=START).history
    names = sorted(sim["campaign"].unique())
    campaign_ids = {name: 101 + i for i, name in enumerate(names)}
    keyworded = {str(c) for c in sim.loc[sim["keyword"] != "", "campaign"]}
    keyword_rows: list[dict[str, str]] = []
    totals: dict[tuple[str, str], dict[str, Decimal]] = {}
    criteria: dict[tuple[str, str, str, str], int] = {}
    ad_groups: dict[tuple[str, str], int] = {}
    for row in sim.itertuples(index=False):
        day = row.date.date().isoformat()
        cost = Decimal(str(row.spend)) * 1_000_000
        base = {
            "segments.date": day,
            "customer.id": "1234567890",
            "customer.currency_code": "EUR",
            "campaign.id": str(campaign_ids[row.campaign]),
            "campaign.name": row.campaign,
        }
        metrics = {
            "metrics.cost_micros": str(int(cost)),
            "metrics.clicks": str(row.clicks),
            "metrics.impressions": str(row.impressions),
            "metrics.conversions": repr(float(row.conversions)),
            "metrics.conversions_value": repr(float(row.conversion_value)),
        }
        total = totals.setdefault((row.campaign, day), dict.fromkeys(metrics, Decimal(0)))
        for k, v in metrics.items():
            total[k] += Decimal(v)
        if row.keyword:
            key = (row.campaign, row.ad_group, row.keyword, row.match_type)
            criterion = criteria.setdefault(key, 9000 + len(criteria))
            keyword_rows.append(
                base
                | {
                    "ad_group.id": str(ad_groups.setdefault(key[:2], 500 + len(ad_groups))),
                    "ad_group.name": row.ad_group,
                    "ad_group_criterion.criterion_id": str(criterion),
                    "ad_group_criterion.keyword.text": row.keyword,
                    "ad_group_criterion.keyword.match_type": row.match_type.upper(),
                }
                | metrics
            )
    campaign_rows = [
        {
            "segments.date": day,
            "customer.id": "1234567890",
            "customer.currency_code": "EUR",
            "campaign.id": str(campaign_ids[name]),
            "campaign.name": name,
            "metrics.cost_micros": str(int(t["metrics.cost_micros"])),
            "metrics.clicks": str(int(t["metrics.clicks"])),
            "metrics.impressions": str(int(t["metrics.impressions"])),
            "metrics.conversions": str(float(t["metrics.conversions"])),
            "metrics.conversions_value": str(float(t["metrics.conversions_value"])),
            "metrics.search_budget_lost_impression_share": "0.1" if name in keyworded else "",
        }
        for (name, day), t in sorted(totals.items())
    ]
    campaigns = [
        {"id": campaign_ids[n], "name": n, "kind": "search" if n in keyworded else "pmax"}
        for n in names
    ]
    for c in campaigns:
        spend = [
            int(r["metrics.cost_micros"]) for r in campaign_rows if r["campaign.name"] == c["name"]
        ]
        c["budget"] = round(sum(spend[-7:]) / 7 / 1_000_000, 2)
    return {
        "timeZone": "Europe/Berlin",
        "currency": "EUR",
        "now": "2026-03-21T06:00:00Z",
        "campaigns": campaigns,
        "campaignRows": campaign_rows,
        "keywordRows": keyword_rows,
    }


def _run_script(
    base: str, key: str, fixture: dict[str, Any], tmp_path: Path, **overrides: Any
) -> dict[str, Any]:
    (tmp_path / "fixture.json").write_text(json.dumps(fixture))
    out = tmp_path / "out.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PPCOPT_E2E_BASE_URL": base,
        "PPCOPT_E2E_KEY": key,
        "PPCOPT_E2E_ACCOUNT": ACCOUNT,
        "PPCOPT_E2E_FIXTURE": str(tmp_path / "fixture.json"),
        "PPCOPT_E2E_OUT": str(out),
        "PPCOPT_E2E_OVERRIDES": json.dumps(overrides),
    }
    done = subprocess.run(
        [str(NODE), "--test", str(E2E)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_script_uploads_then_applies_the_nightly_plan(
    server: tuple[str, str], tmp_path: Path
) -> None:
    base, url = server
    engine = make_engine(url)
    create_account(engine, ACCOUNT, currency="EUR", timezone="Europe/Berlin")
    approve_cap(engine, ACCOUNT, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    _, key = create_key(
        engine, ADMIN, role=Role.SCRIPT, label="ads script", account_names=[ACCOUNT]
    )
    fixture = _fixture()

    # First run: the history (keyword level), no plan yet.
    first = _run_script(
        base,
        key,
        fixture,
        tmp_path,
        uploadDays=DAYS,
        uploadLevel="keyword",
        apply=True,
        sendStructure=False,
        maxChangeFraction=10,
    )
    sent = first["summary"]["performance"]
    assert (sent["start"], sent["end"]) == (START.isoformat(), LAST.isoformat())
    report = sent["report"]
    assert report["format"] == "google_ads_api" and report["rejected"] == 0, report
    assert report["inserted"] == sent["rows"] > 0
    assert first["summary"]["outcome"] != "applied"
    assert first["summary"]["applied"] == []

    night = dt.datetime(2026, 3, 21, 4, 30, tzinfo=dt.UTC)
    settings = Settings(database_url=url, inbox=tmp_path / "inbox", job_backoff_seconds=0.0)
    run = run_nightly(engine, ADMIN, ACCOUNT, now=night, settings=settings)
    assert run.status == "succeeded", run.error

    # Next run: the last 14 days again; one of them has gained a late conversion.
    lagged = next(r for r in fixture["keywordRows"] if r["segments.date"] == LAG_DAY.isoformat())
    lagged["metrics.conversions"] = str(float(lagged["metrics.conversions"]) + 1)
    second = _run_script(
        base,
        key,
        fixture,
        tmp_path,
        uploadDays=14,
        uploadLevel="keyword",
        apply=True,
        sendStructure=False,
        maxChangeFraction=10,
    )
    report = second["summary"]["performance"]["report"]
    assert (report["updated"], report["inserted"], report["rejected"]) == (1, 0, 0), report

    plan = httpx.get(
        f"{base}/v1/accounts/{ACCOUNT}/recommendations/latest",
        params={"level": "campaign", "format": "json"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert second["summary"]["outcome"] == "applied", second["log"]
    assert second["summary"]["recommendationId"] == plan["id"] == run.recommendation_id
    budgets = {name: Decimal(str(v)) for name, v in second["budgets"].items()}
    wanted = {r["campaign"]: Decimal(r["recommended_spend"]) for r in plan["rows"]}
    assert budgets == wanted
