"""Uploads are ingested in worker processes: results and row errors arrive whole, a worker dying
mid-upload is a retryable outage that loses nothing, and a worker that died between uploads is
replaced before the next one (which is then stored, not refused)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.ingest_pool import IngestPool
from optimizer.access import LOCAL_OPERATOR
from optimizer.errors import InvalidInputError, StoreUnavailableError
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.ingest import load_history
from tests.api._worker_probe import die, slow, worker_state

_GOOD = (
    "date,campaign,spend,clicks,impressions,conversions,conversion_value\n"
    "2026-11-01,Brand,12.50,10,100,1,40\n"
    "2026-11-02,Brand,13.00,11,120,2,80\n"
)
_BAD = "date,campaign,spend,clicks,conversions\n2026-11-01,Brand,-3,10,1\n2026-11-02,Brand,x,1,0\n"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    engine = make_engine(url)
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    yield engine
    engine.dispose()


@pytest.fixture
def pool(engine: Engine) -> Iterator[IngestPool]:
    pool = IngestPool(1, str(engine.url.render_as_string(hide_password=False)), None)
    yield pool
    pool.close()


def _ingest(pool: IngestPool, engine: Engine, text: str):  # type: ignore[no-untyped-def]
    data = io.BytesIO(text.encode())
    return asyncio.run(pool.ingest(engine, LOCAL_OPERATOR, "shop", data, source_name="u.csv"))


def _workers(pool: IngestPool) -> list[int]:
    executor = pool._executor
    assert executor is not None
    return [p.pid for p in executor._processes.values()]  # type: ignore[union-attr]


def test_an_upload_is_stored_by_a_worker_process(pool: IngestPool, engine: Engine) -> None:
    report = _ingest(pool, engine, _GOOD)
    assert (report.inserted, report.rejected) == (2, 0)
    assert len(load_history(engine, "shop")) == 2
    workers = _workers(pool)
    assert workers and os.getpid() not in workers
    assert _ingest(pool, engine, _GOOD).unchanged == 2


def test_row_errors_raised_in_a_worker_keep_their_lines(pool: IngestPool, engine: Engine) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _ingest(pool, engine, _BAD)
    assert [issue.line for issue in caught.value.issues] == [2, 3]
    assert {issue.column for issue in caught.value.issues} == {"spend"}
    assert load_history(engine, "shop").empty


def test_a_worker_dying_mid_upload_is_an_outage_that_stores_nothing(
    pool: IngestPool, engine: Engine
) -> None:
    _ingest(pool, engine, _GOOD)
    data = io.BytesIO(_GOOD.replace("12.50", "99.00").encode())
    with pytest.raises(StoreUnavailableError, match="send it again"):
        asyncio.run(pool.ingest(engine, LOCAL_OPERATOR, "shop", data, die, source_name="u.csv"))
    assert load_history(engine, "shop")["spend"].tolist() == [12.5, 13.0]
    report = _ingest(pool, engine, _GOOD.replace("12.50", "99.00"))
    assert report.updated == 1


def test_workers_that_died_between_uploads_are_replaced_for_the_next_one(
    pool: IngestPool, engine: Engine
) -> None:
    _ingest(pool, engine, _GOOD)
    dead = _workers(pool)
    executor = pool._executor
    for pid in dead:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while not executor._broken and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.05)
    assert executor._broken  # type: ignore[union-attr]
    report = _ingest(pool, engine, _GOOD.replace("12.50", "99.00"))
    assert report.updated == 1
    assert set(_workers(pool)).isdisjoint(dead)


def test_no_processes_ingests_in_a_thread(engine: Engine) -> None:
    pool = IngestPool(0, "unused://", None)
    assert _ingest(pool, engine, _GOOD).inserted == 2
    assert pool._executor is None


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_started_workers_have_imported_and_yield_the_cpu(pool: IngestPool) -> None:
    """`ppcopt serve` starts the workers before it answers: the imports (seconds of a core) are
    done then, not at the first upload beside the polls, and the worker then runs at idle
    priority."""
    asyncio.run(pool.start())
    workers = _workers(pool)
    assert len(workers) == 1
    executor = pool._executor
    assert executor is not None
    assert executor.submit(worker_state).result(timeout=60) == (True, os.SCHED_IDLE)
    assert _workers(pool) == workers


def test_the_served_app_starts_its_upload_workers(engine: Engine, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from optimizer.settings import Settings

    url = str(engine.url.render_as_string(hide_password=False))
    settings = Settings(database_url=url, inbox=tmp_path / "inbox", ingest_processes=1)
    for start, spawned in ((False, False), (True, True)):
        app = create_app(settings, start_upload_workers=start)
        with TestClient(app):
            assert (app.state.ingest_pool._executor is not None) is spawned


def test_closing_ends_an_idle_worker_that_cannot_exit_by_itself(
    pool: IngestPool, engine: Engine
) -> None:
    """A worker at idle priority on a busy machine gets almost no CPU to run its own exit; a
    stopped worker stands in for it here. Closing still ends it at once (it held `ppcopt serve`'s
    shutdown for minutes with both cores loaded)."""
    _ingest(pool, engine, _GOOD)
    (worker,) = _workers(pool)
    os.kill(worker, signal.SIGSTOP)
    closing = threading.Thread(target=pool.close)
    try:
        started = time.monotonic()
        closing.start()
        closing.join(timeout=30)
        assert not closing.is_alive()
        assert time.monotonic() - started < 30
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
    assert len(load_history(engine, "shop")) == 2


def test_closing_lets_the_upload_in_flight_finish_first(pool: IngestPool, engine: Engine) -> None:
    reports = []

    def upload() -> None:
        data = io.BytesIO(_GOOD.encode())
        reports.append(
            asyncio.run(pool.ingest(engine, LOCAL_OPERATOR, "shop", data, slow, source_name="u"))
        )

    uploading = threading.Thread(target=upload)
    uploading.start()
    deadline = time.monotonic() + 60
    while not pool._in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool._in_flight
    pool.close()
    uploading.join(timeout=60)
    assert [r.inserted for r in reports] == [2]
    assert len(load_history(engine, "shop")) == 2
