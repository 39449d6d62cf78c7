"""`ppcopt serve --with-scheduler`: one process serves the API and keeps every account's job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.tables import scheduler_jobs
from optimizer.usecases.accounts import create_account, list_accounts
from tests.api.harness import free_port

ROOT = Path(__file__).resolve().parents[2]


def _job_ids(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with transaction(engine) as connection:
            return set(connection.execute(select(scheduler_jobs.c.id)).scalars())
    finally:
        engine.dispose()


def test_serve_with_scheduler_schedules_each_account_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    create_account(engine, "shop-de", currency="EUR", timezone="Europe/Berlin")
    create_account(engine, "shop-us", currency="USD", timezone="America/Chicago")
    ids = {f"nightly:{account.id}" for account in list_accounts(engine)}
    engine.dispose()
    port = free_port()
    env = {**os.environ, "PPCOPT_DATABASE_URL": url, "PPCOPT_INBOX": str(tmp_path / "inbox")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--with-scheduler"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start within 60 s"
            time.sleep(0.1)
        assert _job_ids(url) >= ids
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output[-3000:]
    assert _job_ids(url) >= ids, "the jobs persist in the store for the next start"
