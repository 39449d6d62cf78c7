"""The server runs at most `api_threads` synchronous requests at once (no more than its pool)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from optimizer.settings import Settings


@pytest.mark.parametrize("threads", [2, 7], ids=["two", "seven"])
def test_the_request_thread_limit_comes_from_settings(tmp_path: Path, threads: int) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", api_threads=threads)
    app = create_app(settings)
    busy, peak, lock = [0], [0], threading.Lock()

    @app.get("/slow")
    def slow() -> dict[str, int]:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.05)
        with lock:
            busy[0] -= 1
        return {"ok": 1}

    with TestClient(app) as client:
        assert client.portal is not None
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
        assert tokens == threads
        callers = [threading.Thread(target=client.get, args=("/slow",)) for _ in range(12)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert peak[0] == threads
