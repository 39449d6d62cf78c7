"""Limits on work (issue 20, 8): an upload over the rows-per-upload or entities-per-account limit
is a 413 naming the limit, refused before anything is stored; a fit whose client went away stops
at its next unit of work and stores nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

import optimizer.solver.frontier as frontier_module
import optimizer.usecases.fit as fit_module
from api.app import create_app
from api.cancel import POLL_SECONDS
from optimizer.access import Role, system_principal
from optimizer.errors import CancelledError, TooLargeError
from optimizer.io import write_canonical_csv
from optimizer.settings import Settings, get_settings
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.tables import audit_log, curve_sets, entities, performance
from optimizer.usecases.accounts import create_account
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.keys import create_key

_ADMIN = system_principal("cli:test-admin")
_END = dt.date(2026, 11, 30)


def _history(path: Path, *, campaigns: int, keywords: int, days: int, seed: int = 3) -> Path:
    sim = simulate(
        campaigns=campaigns,
        keywords_per_campaign=keywords,
        days=days,
        seed=seed,
        start=_END - dt.timedelta(days=days - 1),
        currency="EUR",
    )
    write_canonical_csv(sim.history, path)
    return path


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A SQLite store with account 'shop' and a manager key; limits set through the environment
    (as an operator sets them) to 100 rows per upload and 6 entities per account."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    monkeypatch.setenv("PPCOPT_DATABASE_URL", url)
    monkeypatch.setenv("PPCOPT_UPLOAD_MAX_ROWS", "100")
    monkeypatch.setenv("PPCOPT_ACCOUNT_MAX_ENTITIES", "6")
    monkeypatch.setenv("PPCOPT_INGEST_PROCESSES", "0")
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    _, key = create_key(
        engine, _ADMIN, role=Role.MANAGER, label="pat", account_names=["shop"], all_accounts=False
    )
    yield engine, key
    engine.dispose()
    get_settings.cache_clear()


def _stored(engine: Engine) -> tuple[int, int, int]:
    with transaction(engine) as connection:
        return tuple(  # type: ignore[return-value]
            int(connection.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (entities, performance, audit_log)
        )


@pytest.mark.parametrize(
    ("shape", "limit_words"),
    [
        pytest.param({"campaigns": 1, "keywords": 2, "days": 60}, "100 data rows", id="rows"),
        pytest.param(
            {"campaigns": 2, "keywords": 3, "days": 10}, "over the limit of 6", id="entities"
        ),
    ],
)
def test_an_upload_over_a_limit_is_413_and_stores_nothing(
    limited: tuple[Engine, str], tmp_path: Path, shape: dict[str, int], limit_words: str
) -> None:
    """60 days of 2 keywords and their campaign's rows (180 rows, limit 100); 2 campaigns of 3
    keywords (6 keywords and their campaigns' rows, limit 6 entities)."""
    engine, key = limited
    before = _stored(engine)
    path = _history(tmp_path / "big.csv", **shape)
    with TestClient(create_app()) as client:
        answer = client.post(
            "/v1/accounts/shop/performance",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("big.csv", path.read_bytes(), "text/csv")},
        )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_large"
    assert limit_words in answer.json()["detail"]
    assert _stored(engine) == before


def test_an_upload_within_the_limits_is_stored(limited: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = limited
    report = ingest(engine, "shop", _history(tmp_path / "ok.csv", campaigns=1, keywords=2, days=30))
    assert report.rows_read == report.inserted == 90


def test_the_entity_limit_counts_what_the_account_already_has(
    limited: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, _ = limited
    ingest(engine, "shop", _history(tmp_path / "a.csv", campaigns=1, keywords=3, days=5, seed=1))
    before = _stored(engine)
    second = _history(tmp_path / "b.csv", campaigns=1, keywords=3, days=5, seed=2)
    renamed = second.read_text().replace("Campaign 1", "Campaign 9")
    second.write_text(renamed)
    with pytest.raises(TooLargeError, match="PPCOPT_ACCOUNT_MAX_ENTITIES"):
        ingest(engine, "shop", second)
    assert _stored(engine) == before


def test_the_limits_are_documented_settings() -> None:
    fields = Settings.model_fields
    assert fields["upload_max_rows"].default == 5_000_000
    assert fields["account_max_entities"].default == 100_000
    assert fields["upload_max_rows"].description and fields["account_max_entities"].description


@pytest.fixture
def fitted_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'fit.db'}"
    monkeypatch.setenv("PPCOPT_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    ingest(engine, "shop", _history(tmp_path / "h.csv", campaigns=8, keywords=3, days=90))
    _, key = create_key(
        engine, _ADMIN, role=Role.MANAGER, label="pat", account_names=["shop"], all_accounts=False
    )
    yield engine, key
    engine.dispose()
    get_settings.cache_clear()


def _counting_progress(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[int, int]]) -> None:
    """Watch the fit's units of work; the first unit lasts longer than two looks at the
    connection, so a small account's fit cannot finish before the server sees the client gone
    (on a quiet machine it takes less than one look)."""
    real = fit_module.fit_account_slices

    def watched(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        def seen(done: int, total: int) -> None:
            if not calls:
                time.sleep(3 * POLL_SECONDS)
            calls.append((done, total))
            if progress is not None:
                progress(done, total)

        return real(*args, progress=seen, **kwargs)

    monkeypatch.setattr(fit_module, "fit_account_slices", watched)


def _versions(engine: Engine) -> int:
    with transaction(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(curve_sets)).scalar_one())


def _post_and_leave(path: str, key: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """POST `path` straight to the app, then disconnect, as a browser or script that gave up
    does; the status and JSON body the app answered."""
    app = create_app()
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"test"), (b"authorization", f"Bearer {key}".encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), json.loads(answer)


def test_a_fit_whose_client_went_away_stops_early(
    fitted_store: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client sends POST .../fits and disconnects: the fit stops after at most a unit or two
    of work and stores no curve set."""
    engine, key = fitted_store
    calls: list[tuple[int, int]] = []
    _counting_progress(monkeypatch, calls)
    status, body = _post_and_leave("/v1/accounts/shop/fits", key)
    assert status == 499 and body["error"] == "cancelled"
    assert _versions(engine) == 0
    total = 8 * 3
    assert not calls or calls[-1][0] < total


def test_a_frontier_whose_client_went_away_stops_between_budgets(
    fitted_store: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 budgets asked, the client gone: the frontier stops between budgets (any first solve
    lasts longer than two looks at the connection) instead of solving all 20."""
    engine, key = fitted_store
    fit(engine, "shop")
    solved: list[float] = []
    real = frontier_module._solve_at

    def slow(*args: Any, **kwargs: Any) -> Any:
        if not solved:
            time.sleep(3 * POLL_SECONDS)
        solved.append(time.perf_counter())
        return real(*args, **kwargs)

    monkeypatch.setattr(frontier_module, "_solve_at", slow)
    budgets = [f"{10 + 5 * i}.00" for i in range(20)]
    status, body = _post_and_leave(
        "/v1/accounts/shop/frontier", key, json.dumps({"budgets": budgets}).encode()
    )
    assert status == 499 and body["error"] == "cancelled", body
    assert len(solved) < len(budgets)


def test_a_fit_asked_to_stop_raises_and_stores_nothing(
    fitted_store: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _ = fitted_store
    calls: list[tuple[int, int]] = []
    _counting_progress(monkeypatch, calls)
    with pytest.raises(CancelledError, match="went away"):
        fit(engine, "shop", should_stop=lambda: len(calls) >= 2)
    assert len(calls) == 2 and calls[-1][0] < calls[-1][1]
    assert _versions(engine) == 0
    assert fit(engine, "shop").refitted
    assert _versions(engine) == 1
