"""A server whose PostgreSQL goes away (a TCP proxy in between is cut) answers 503 with
Retry-After, never 500, and recovers by itself; two identical uploads at once store rows once;
a full SQLite disk gives a clear error and stores nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from optimizer.access import Role
from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import ingest, load_history
from optimizer.usecases.keys import create_key
from tests.api.harness import ADMIN, running_server, store
from tests.conftest import POSTGRES_URL
from tests.faults.conftest import ACCOUNT, Store, history
from tests.stores import dump


class Proxy:
    """A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused by
    closing them at once) and restored."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.up = True
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._open |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def proxied(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Proxy, dict[str, str]]]:
    with store("postgres", tmp_path, POSTGRES_URL) as (engine, env):
        _, key = create_key(engine, ADMIN, role=Role.ADMIN, label="admin")
        url = make_url(POSTGRES_URL)
        proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
        proxied_url = url.set(host="127.0.0.1", port=proxy.port)
        env = {**env, "PPCOPT_DATABASE_URL": proxied_url.render_as_string(hide_password=False)}
        try:
            yield proxy, {"key": key, **env}
        finally:
            proxy.close()


@pytest.mark.postgres
def test_postgres_outage_gives_503_then_recovers(
    proxied: tuple[Proxy, dict[str, str]], tmp_path: Path
) -> None:
    proxy, env = proxied
    key = env.pop("key")
    with running_server(env, tmp_path) as base:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            assert client.get("/v1/accounts").status_code == 200
            proxy.cut()
            poll = "/v1/accounts/nope/recommendations/latest"
            for path in ("/v1/accounts", "/v1/keys", "/readyz", poll):
                down = client.get(path)
                assert down.status_code == 503, (path, down.text)
                assert int(down.headers["Retry-After"]) >= 1
                assert "unavailable" in down.text
            proxy.up = True
            assert client.get("/v1/accounts").status_code == 200
            assert client.get("/readyz").status_code == 200
            assert client.get(poll).status_code == 404


def test_same_file_uploaded_twice_at_once(fitted: Store, tmp_path: Path) -> None:
    _, key = create_key(fitted.engine, ADMIN, role=Role.MANAGER, label="m", all_accounts=True)
    newer = history(tmp_path, "newer.csv", days=20, end=fitted.history_end, seed=21)
    rows_before = len(load_history(fitted.engine, ACCOUNT))
    data = newer.read_bytes()
    with running_server(fitted.env, tmp_path) as base:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}

        def upload(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                return client.post(f"/v1/accounts/{ACCOUNT}/performance", content=data)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(upload, range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    changed = [a.json()["inserted"] + a.json()["updated"] for a in answers]
    assert sorted(changed)[0] == 0, [a.json()["summary"] for a in answers]
    stored = load_history(fitted.engine, ACCOUNT)
    assert len(stored) == rows_before + sum(a.json()["inserted"] for a in answers)
    keys = ["date", "campaign", "ad_group", "keyword", "match_type"]
    assert not stored.duplicated(keys).any()


def test_full_sqlite_disk_is_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "full.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    create_account(engine, ACCOUNT, currency="EUR", timezone="UTC")
    pages = sqlite3.connect(database).execute("PRAGMA page_count").fetchone()[0]

    @event.listens_for(engine, "connect")
    def _small_disk(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 8}")

    engine.dispose()
    before = dump(engine)
    big = history(tmp_path, "big.csv", days=200, end=dt.date.today() - dt.timedelta(days=1), seed=5)
    with pytest.raises(StoreUnavailableError, match="full"):
        ingest(engine, ACCOUNT, big)
    assert dump(engine) == before
    engine.dispose()
