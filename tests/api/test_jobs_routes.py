"""The jobs routes over a real server: run an account's pipeline now, see the record, see /metrics.

The runs use globex (account B) so the acme-based tests keep their published recommendations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tests.api.harness import Server

_HEADER = "date,campaign,ad_group,keyword,match_type,spend,clicks,impressions,conversions,"
_HEADER += "conversion_value\n"


def _inbox(server: Server) -> Path:
    folder = Path(server.env["PPCOPT_INBOX"]) / "globex"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def approved_week(server: Server) -> int:
    """An approved globex cap over the days around tomorrow, whatever the server's clock says."""
    today = dt.date.today()
    body = {
        "period_start": (today - dt.timedelta(days=1)).isoformat(),
        "period_end": (today + dt.timedelta(days=6)).isoformat(),
        "amount": "8000.00",
        "currency": "USD",
    }
    with server.client("manager_b") as manager, server.client("finance_b") as finance:
        cap = manager.post("/v1/accounts/globex/caps", json=body)
        assert cap.status_code == 201, cap.text
        decided = finance.post(f"/v1/caps/{cap.json()['id']}/approve")
        assert decided.status_code == 200, decided.text
        return int(cap.json()["id"])


def test_run_now_ingests_the_inbox_refits_and_publishes(server: Server, approved_week: int) -> None:
    day = server.history_end.isoformat()
    (_inbox(server) / "late-rows.csv").write_text(
        _HEADER + f"{day},Inbox campaign,,,,12.50,7,90,1,40\n", encoding="utf-8"
    )
    (_inbox(server) / "broken.csv").write_text(
        _HEADER + f"{day},Broken campaign,,,,-3,7,90,1,40\n", encoding="utf-8"
    )
    with server.client("manager_b") as manager:
        response = manager.post("/v1/accounts/globex/jobs/nightly/run")
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "succeeded", run["error"]
    assert run["trigger"] == "manual"
    assert (run["files_processed"], run["files_rejected"], run["rows_ingested"]) == (1, 1, 1)
    assert run["curves_refit"] is True
    assert run["recommendation_id"] is not None
    assert (_inbox(server) / "processed").is_dir()
    assert not (_inbox(server) / "late-rows.csv").exists()
    rejected = sorted(p.name for p in (_inbox(server) / "rejected").iterdir())
    assert any(name.endswith(".report.txt") for name in rejected), rejected

    with server.client("script_b") as script:
        latest = script.get("/v1/accounts/globex/recommendations/latest")
    assert latest.status_code == 200, latest.text
    rec = latest.json()
    assert rec["id"] == run["recommendation_id"]
    assert rec["cap"]["id"] == approved_week
    assert Decimal(rec["total_recommended"]) <= Decimal(rec["budget"]) <= Decimal("8000.00")


def test_runs_are_listed_for_the_accounts_a_key_may_see(server: Server, approved_week: int) -> None:
    with server.client("manager_b") as manager:
        assert manager.post("/v1/accounts/globex/jobs/nightly/run").status_code == 201
    with server.client("finance_b") as finance:
        own = finance.get("/v1/jobs/runs", params={"account": "globex", "limit": 5})
    assert own.status_code == 200, own.text
    assert own.json() and {run["account"] for run in own.json()} == {"globex"}
    ids = [run["id"] for run in own.json()]
    assert ids == sorted(ids, reverse=True)
    with server.client("manager") as other:
        assert other.get("/v1/jobs/runs", params={"account": "globex"}).status_code == 404
        listed = other.get("/v1/jobs/runs").json()
    assert "globex" not in {run["account"] for run in listed}


def test_a_failed_run_is_recorded_and_shows_in_metrics(server: Server) -> None:
    """An account with no history cannot be fitted: the run fails at that step, with the reason."""
    account = {"name": "jobs-empty", "currency": "EUR", "timezone": "Europe/Paris"}
    with server.client("admin") as admin:
        assert admin.post("/v1/accounts", json=account).status_code == 201
        response = admin.post("/v1/accounts/jobs-empty/jobs/nightly/run")
        metrics = admin.get("/metrics")
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "failed"
    assert run["error"].startswith("fit:"), run["error"]
    assert run["recommendation_id"] is None
    assert metrics.status_code == 200
    assert 'ppcopt_job_last_run_failed{account="jobs-empty"} 1.0' in metrics.text
    assert 'ppcopt_job_failures_last_24h{account="jobs-empty"} 1.0' in metrics.text
    assert 'ppcopt_job_last_run_stale_data{account="jobs-empty"} 0.0' in metrics.text
    assert 'ppcopt_account_data_age_days{account="jobs-empty"}' not in metrics.text  # no data


@pytest.mark.parametrize("key", ["finance", "script"], ids=["finance", "script"])
def test_only_admins_and_managers_may_run_jobs(server: Server, key: str) -> None:
    with server.client(key) as client:
        assert client.post("/v1/accounts/acme/jobs/nightly/run").status_code == 403
