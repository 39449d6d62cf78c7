"""Ingest throughput and memory: parse + validate, and stored into SQLite / PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from bench.registry import case

__all__ = ["history_file", "ingest_parse", "ingest_store"]

_DAYS = 180
_KEYWORDS = 20


def history_file(workdir: str, rows: int) -> Path:
    """A simulated canonical CSV of about `rows` rows, made once and reused."""
    from optimizer.io import write_canonical_csv
    from optimizer.simulate import simulate

    path = Path(workdir) / f"history-{rows}.csv"
    if not path.exists():
        entities = -(-rows // _DAYS)
        campaigns = max(1, -(-entities // _KEYWORDS))
        sim = simulate(campaigns=campaigns, keywords_per_campaign=_KEYWORDS, days=_DAYS, seed=1)
        tmp = path.with_suffix(".tmp")
        write_canonical_csv(sim.history.head(rows), tmp)
        tmp.rename(path)
    return path


@case("ingest_parse")
def ingest_parse(*, rows: int, workdir: str) -> dict[str, Any]:
    from optimizer.io import read_performance

    path = history_file(workdir, rows)
    started = time.perf_counter()
    result = read_performance(path)
    elapsed = time.perf_counter() - started
    assert not result.errors, result.errors[:3]
    return {"rows": result.rows_read, "seconds": elapsed, "rows_per_s": result.rows_read / elapsed}


def _engine(backend: str, workdir: str) -> tuple[Any, str | None]:
    from sqlalchemy import create_engine, text

    from optimizer.store.engine import make_engine

    if backend == "sqlite":
        db = Path(workdir) / f"bench-{uuid.uuid4().hex}.db"
        return make_engine(f"sqlite:///{db}"), None
    url = os.environ.get(
        "PPCOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with create_engine(url).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return make_engine(url, schema=schema), schema


@case("ingest_store")
def ingest_store(*, rows: int, backend: str, workdir: str) -> dict[str, Any]:
    from optimizer.store.engine import upgrade
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.ingest import ingest

    path = history_file(workdir, rows)
    engine, schema = _engine(backend, workdir)
    try:
        upgrade(engine)
        create_account(engine, "bench", currency="EUR", timezone="Europe/Berlin")
        started = time.perf_counter()
        first = ingest(engine, "bench", path)
        stored_s = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest(engine, "bench", path)
        again_s = time.perf_counter() - started
    finally:
        engine.dispose()
        if schema is not None:
            _drop_schema(schema)
    assert first.inserted == first.rows_read and again.unchanged == again.rows_read
    return {
        "rows": first.rows_read,
        "seconds": stored_s,
        "rows_per_s": first.rows_read / stored_s,
        "reingest_seconds": again_s,
        "reingest_rows_per_s": again.rows_read / again_s,
    }


def _drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    url = os.environ.get(
        "PPCOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    with create_engine(url).begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
