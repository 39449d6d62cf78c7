"""Uploads never slow the poll: every kind of upload is parsed, validated and stored by the ingest
worker, the server answers polls while one is in progress, and a worker that dies mid-upload is a
retryable 503 that stored nothing.

The app runs in this process (TestClient) with one spawned ingest worker on a SQLite file. To hold
an upload in progress without timing, the test takes SQLite's write lock (`BEGIN IMMEDIATE`): the
worker parses the file, then waits for the lock (busy timeout 10 s) while the server is free.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

import optimizer.io
from api.app import create_app
from api.ingest_pool import IngestPool
from api.schemas import PerformanceRowsIn
from optimizer.access import Role, system_principal
from optimizer.settings import Settings
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import load_history
from optimizer.usecases.keys import create_key

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")

_CSV = (
    "date,campaign,spend,clicks,impressions,conversions,conversion_value\n"
    "2026-11-01,Brand,12.50,10,100,1,40\n"
    "2026-11-02,Brand,13.00,11,120,2,80\n"
)
_ROWS = {
    "rows": [
        {"date": "2026-11-01", "campaign": "Brand", "spend": "12.50", "clicks": 10},
        {"date": "2026-11-02", "campaign": "Brand", "spend": "13.00", "clicks": 11},
    ]
}
_MANAGER = (
    "Account,Day,Campaign,Cost,Clicks,Impr.,Conversions\n"
    "shop,2026-11-01,Brand,12.50,10,100,1\n"
    "shop,2026-11-02,Brand,13.00,11,120,2\n"
)
_UPLOAD = "/v1/accounts/shop/performance"
_POLL = "/v1/accounts/shop/recommendations/latest"


@dataclass
class _App:
    client: TestClient
    database: Path
    headers: dict[str, str]

    @property
    def pool(self) -> IngestPool:
        pool: IngestPool = self.client.app.state.ingest_pool  # type: ignore[attr-defined]
        return pool

    def stored_spend(self) -> list[float]:
        engine = make_engine(f"sqlite:///{self.database}")
        try:
            return [float(x) for x in load_history(engine, "shop")["spend"]]
        finally:
            engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[_App]:
    database = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    _, key = create_key(
        engine, system_principal("test"), role=Role.ADMIN, label="uploads", all_accounts=True
    )
    engine.dispose()
    settings = Settings(database_url=f"sqlite:///{database}", ingest_processes=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield _App(client, database, {"Authorization": f"Bearer {key}"})


def _csv(app: _App) -> httpx.Response:
    headers = {**app.headers, "Content-Type": "text/csv"}
    return app.client.post(_UPLOAD, content=_CSV.encode(), headers=headers)


def _multipart(app: _App) -> httpx.Response:
    files = {"file": ("report.csv", _CSV.encode(), "text/csv")}
    return app.client.post(_UPLOAD, files=files, headers=app.headers)


def _json_rows(app: _App) -> httpx.Response:
    headers = {**app.headers, "Content-Type": "application/json"}
    return app.client.post(_UPLOAD, content=json.dumps(_ROWS).encode(), headers=headers)


def _manager_report(app: _App) -> httpx.Response:
    headers = {**app.headers, "Content-Type": "text/csv"}
    return app.client.post("/v1/performance", content=_MANAGER.encode(), headers=headers)


_KINDS: dict[str, Callable[[_App], httpx.Response]] = {
    "csv body": _csv,
    "multipart": _multipart,
    "json rows": _json_rows,
    "manager report": _manager_report,
}


def _worker_pids(app: _App) -> list[int]:
    executor = app.pool._executor
    processes = getattr(executor, "_processes", None) or {}
    return [process.pid for process in processes.values()]


def _has_open(pid: int, path: Path) -> bool:
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            if Path(fd.readlink()) == path:
                return True
        except OSError:
            continue
    return False


@contextmanager
def _write_locked(database: Path) -> Iterator[Callable[[], None]]:
    """SQLite's write lock, held until the yielded `release` is called (or the block ends)."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            holder.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        holder.close()


def _in_progress(
    app: _App, send: Callable[[_App], httpx.Response]
) -> tuple[threading.Thread, dict[str, Any]]:
    """An upload started in a thread, handed to the pool and held by the write lock.

    It is in progress once the pool has it in flight and a worker has the store open. The open
    file alone is not enough: a worker keeps its connection after an earlier upload, so without
    the in-flight check a worker killed here could die before this upload reached the pool, which
    then hands it to a new worker that waits out the busy timeout (a 503 "database is locked"
    instead of "send it again")."""
    answer: dict[str, Any] = {}

    def run() -> None:
        answer["response"] = send(app)

    uploading = threading.Thread(target=run)
    uploading.start()
    while not (
        app.pool._in_flight and any(_has_open(pid, app.database) for pid in _worker_pids(app))
    ):
        assert uploading.is_alive(), answer
        threading.Event().wait(0.01)
    return uploading, answer


@pytest.mark.parametrize("send", list(_KINDS.values()), ids=list(_KINDS))
def test_the_server_process_never_parses_an_upload(
    app: _App, send: Callable[[_App], httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading rows or validating JSON rows in the server's own process would fail here; the
    spawned worker has its own, untouched modules."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was parsed in the server process")

    monkeypatch.setattr(optimizer.io, "read_performance", refuse)
    monkeypatch.setattr(PerformanceRowsIn, "model_validate_json", refuse)
    response = send(app)
    assert response.status_code == 200, response.text
    assert app.stored_spend() == [12.5, 13.0]


@pytest.mark.parametrize("send", list(_KINDS.values()), ids=list(_KINDS))
def test_a_poll_is_answered_while_an_upload_is_in_progress(
    app: _App, send: Callable[[_App], httpx.Response]
) -> None:
    with _write_locked(app.database) as release:
        uploading, answer = _in_progress(app, send)
        poll = app.client.get(_POLL, headers=app.headers)
        assert uploading.is_alive() and "response" not in answer
        release()
        uploading.join()
    assert poll.status_code == 404, poll.text  # answered: no recommendation was published
    assert answer["response"].status_code == 200, answer["response"].text
    assert app.stored_spend() == [12.5, 13.0]


def test_a_worker_killed_mid_upload_answers_503_and_stores_nothing(app: _App) -> None:
    assert _csv(app).status_code == 200
    changed = _CSV.replace("12.50", "99.00")

    def send(app: _App) -> httpx.Response:
        headers = {**app.headers, "Content-Type": "text/csv"}
        return app.client.post(_UPLOAD, content=changed.encode(), headers=headers)

    with _write_locked(app.database) as release:
        uploading, answer = _in_progress(app, send)
        for pid in _worker_pids(app):
            os.kill(pid, signal.SIGKILL)
        uploading.join()
        release()
    response = answer["response"]
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "send it again" in response.json()["detail"]
    assert app.stored_spend() == [12.5, 13.0]
    again = send(app)
    assert again.status_code == 200, again.text
    assert again.json()["updated"] == 1
    assert app.stored_spend() == [99.0, 13.0]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param(
            "text/csv",
            "date,campaign,spend,clicks,conversions\n2026-11-01,Brand,1.00,1,0\n2026-11-02,Brand,-3,1,0\n",
            id="csv with a negative spend on line 3",
        ),
        pytest.param(
            "application/json",
            json.dumps(
                {
                    "rows": [
                        {"date": "2026-11-01", "campaign": "Brand", "spend": "1.00"},
                        {"date": "2026-11-02", "campaign": "Brand", "spend": "-3"},
                    ]
                }
            ),
            id="json rows with a negative spend in row 2",
        ),
    ],
)
def test_a_bad_file_is_refused_by_the_worker_with_its_line(
    app: _App, content_type: str, body: str
) -> None:
    response = app.client.post(
        _UPLOAD, content=body.encode(), headers={**app.headers, "Content-Type": content_type}
    )
    assert response.status_code == 422, response.text
    issues = response.json()["issues"]
    assert [(issue["line"], issue["column"]) for issue in issues] == [(3, "spend")]
    assert app.stored_spend() == []
