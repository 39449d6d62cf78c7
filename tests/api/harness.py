"""A real API server process over a seeded store (SQLite file or PostgreSQL schema).

Seeding goes through the use cases directly (same database), then `python -m cli serve`
runs in a subprocess on a free loopback port, exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.io import write_canonical_csv
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.keys import create_key
from tests.conftest import _require_postgres
from tests.stores import postgres_schema

ROOT = Path(__file__).resolve().parents[2]
ADMIN = system_principal("cli:test-admin")

KEY_SPECS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "admin": (Role.ADMIN, ()),
    "manager": (Role.MANAGER, ("acme",)),
    "manager2": (Role.MANAGER, ("acme",)),
    "finance": (Role.FINANCE, ("acme",)),
    "finance2": (Role.FINANCE, ("acme",)),
    "script": (Role.SCRIPT, ("acme",)),
    "manager_b": (Role.MANAGER, ("globex",)),
    "finance_b": (Role.FINANCE, ("globex",)),
    "script_b": (Role.SCRIPT, ("globex",)),
}
"""Keys by name: role and scope. `acme` is account A, `globex` account B."""


@dataclass
class Server:
    base_url: str
    keys: dict[str, str]
    engine: Engine
    history_end: dt.date
    env: dict[str, str] = field(default_factory=dict)

    def client(self, key: str | None = None, **headers: str) -> httpx.Client:
        sent = dict(headers)
        if key is not None:
            sent["Authorization"] = f"Bearer {self.keys[key]}"
        return httpx.Client(base_url=self.base_url, headers=sent, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def store(
    backend: str, workdir: Path, postgres_url: str
) -> Iterator[tuple[Engine, dict[str, str]]]:
    """A migrated empty store and the env that points a server process at it (PostgreSQL
    unreachable: the test is skipped, or fails when PPCOPT_REQUIRE_POSTGRES=1)."""
    if backend == "postgres":
        _require_postgres()
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'api.db'}"
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine, {"PPCOPT_DATABASE_URL": url}
        finally:
            engine.dispose()
        return
    with postgres_schema(postgres_url, prefix="api") as (engine, schema):
        upgrade(engine)
        yield engine, {"PPCOPT_DATABASE_URL": postgres_url, "PPCOPT_DATABASE_SCHEMA": schema}


def add_fitted_account(
    engine: Engine, workdir: Path, name: str, currency: str, timezone: str, *, seed: int
) -> None:
    """An account with 60 simulated days to yesterday (3 campaigns x 3 keywords), fitted."""
    end = dt.date.today() - dt.timedelta(days=1)
    create_account(engine, name, currency=currency, timezone=timezone)
    sim = simulate(
        campaigns=3,
        keywords_per_campaign=3,
        days=60,
        seed=seed,
        start=end - dt.timedelta(days=59),
        currency=currency,
    )
    path = workdir / f"{name}.csv"
    write_canonical_csv(sim.history, path)
    ingest(engine, name, path)
    fit(engine, name)


def seed(engine: Engine, workdir: Path) -> tuple[dict[str, str], dt.date]:
    """Two fitted accounts and one key per entry of KEY_SPECS."""
    end = dt.date.today() - dt.timedelta(days=1)
    add_fitted_account(engine, workdir, "acme", "EUR", "Europe/Berlin", seed=5)
    add_fitted_account(engine, workdir, "globex", "USD", "America/New_York", seed=6)
    keys = {}
    for key_name, (role, accounts) in KEY_SPECS.items():
        _, plaintext = create_key(
            engine,
            ADMIN,
            role=role,
            label=key_name,
            account_names=accounts,
            all_accounts=not accounts,
        )
        keys[key_name] = plaintext
    return keys, end


@contextmanager
def running_server(env: dict[str, str], workdir: Path) -> Iterator[str]:
    port = free_port()
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / log.name).read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
