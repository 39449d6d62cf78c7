"""One seeded store for the dashboard tests: tests/api/harness.py's accounts and keys, plus an
approved cap for acme, nightly runs (acme's publish, one with a rejected inbox file; globex's fails
for want of a cap) and an account with a right-to-left name.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from optimizer.access import Principal
from optimizer.settings import Settings
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import Cap, decide_cap, propose_cap
from optimizer.usecases.keys import authenticate
from optimizer.usecases.nightly import run_nightly
from tests.api.harness import ADMIN, seed, store

RTL_ACCOUNT = "متجر الرياض"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Seeded:
    engine: Engine
    keys: dict[str, str]
    env: dict[str, str]
    workdir: Path
    settings: Settings

    def principal(self, key: str) -> Principal:
        return authenticate(self.engine, self.keys[key])

    def propose(self, key: str = "manager", amount: str = "12345.67") -> Cap:
        start = dt.date.today()
        return propose_cap(
            self.engine,
            self.principal(key),
            "acme",
            period_start=start,
            period_end=start + dt.timedelta(days=30),
            amount=amount,
            currency="EUR",
            note="Q4 push",
        )


@pytest.fixture(scope="package")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    workdir = tmp_path_factory.mktemp("ui")
    with store("sqlite", workdir, "") as (engine, store_env):
        keys, _ = seed(engine, workdir)
        env = {**store_env, "PPCOPT_INBOX": str(workdir / "inbox")}
        settings = Settings(
            database_url=store_env["PPCOPT_DATABASE_URL"],
            inbox=workdir / "inbox",
            session_secret="ui-test-secret",
        )
        data = Seeded(engine, keys, env, workdir, settings)
        start = dt.date.today() - dt.timedelta(days=1)
        cap = propose_cap(
            engine,
            data.principal("manager"),
            "acme",
            period_start=start,
            period_end=start + dt.timedelta(days=40),
            amount="40000",
            currency="EUR",
        )
        decide_cap(engine, data.principal("finance"), cap.id, approve=True)
        run_nightly(engine, ADMIN, "acme", trigger="manual", settings=settings)
        inbox = workdir / "inbox" / "acme"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "broken.csv").write_text(
            "date,campaign,spend,clicks,conversions\nyesterday,x,-1,a,0\n"
        )
        run_nightly(engine, ADMIN, "acme", trigger="manual", settings=settings)
        run_nightly(engine, ADMIN, "globex", trigger="manual", settings=settings)  # fails: no cap
        create_account(engine, RTL_ACCOUNT, currency="SAR", timezone="Asia/Riyadh")
        yield data


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> None:
    """Sign in through the form, as a browser does (GET for the token, then POST)."""
    token = csrf_of(client.get("/ui/signin").text)
    answer = client.post("/ui/signin", data={"key": key, "csrf": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test module; skipped without it, unless
    PPCOPT_REQUIRE_BROWSER=1 (CI), where it fails."""
    if not CHROMIUM.exists():
        if os.environ.get("PPCOPT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PPCOPT_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (make browser)")
        pytest.skip(f"{CHROMIUM} is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()
