"""The shipped clients (clients/python, clients/google-ads-script) against the real server.

Their own suites hold a contract part that runs against a server when PPCOPT_TEST_BASE_URL,
PPCOPT_TEST_KEY and PPCOPT_TEST_ACCOUNT are set; here they get a server with a published
campaign-level plan on an account of their own and a script key for it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.access import Principal, Role
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.keys import create_key
from optimizer.usecases.recommendations import publish
from tests.api.harness import ADMIN, Server, add_fitted_account

ROOT = Path(__file__).resolve().parents[2]
_ACCOUNT = "clients-shop"


@pytest.fixture(scope="module")
def client_env(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    workdir = tmp_path_factory.mktemp("clients")
    add_fitted_account(server.engine, workdir, _ACCOUNT, "EUR", "Europe/Rome", seed=11)
    day = dt.date.today() + dt.timedelta(days=1)
    manager = Principal(role=Role.MANAGER, label="cli:maria", key_id=None, account_ids=None)
    finance = Principal(role=Role.FINANCE, label="cli:ben", key_id=None, account_ids=None)
    cap = propose_cap(
        server.engine,
        manager,
        _ACCOUNT,
        period_start=day,
        period_end=day,
        amount="1234.56",
        currency="EUR",
    )
    decide_cap(server.engine, finance, cap.id, approve=True)
    publish(server.engine, manager, _ACCOUNT, day)
    _, key = create_key(
        server.engine, ADMIN, role=Role.SCRIPT, label="clients", account_names=(_ACCOUNT,)
    )
    return {
        "PPCOPT_TEST_BASE_URL": server.base_url,
        "PPCOPT_TEST_KEY": key,
        "PPCOPT_TEST_ACCOUNT": _ACCOUNT,
    }


def test_python_client_contract(client_env: dict[str, str]) -> None:
    pytest_args = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rs", "-k", "real_server"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, "tests/clients/test_python_client.py"],
        cwd=ROOT,
        env={**os.environ, **client_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout, done.stdout[-2000:]


def test_google_ads_script_contract(client_env: dict[str, str]) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("PPCOPT_REQUIRE_BROWSER") == "1":
            pytest.fail("node is needed for the Google Ads script's tests")
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--test", "test/"],
        cwd=ROOT / "clients" / "google-ads-script",
        env={**os.environ, **client_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "real server" in done.stdout, done.stdout[-2000:]
