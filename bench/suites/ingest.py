"""Ingest throughput and memory: parse + validate, and stored into SQLite / PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.registry import case
from bench.suites._store import scratch_store

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


@case("ingest_store")
def ingest_store(*, rows: int, backend: str, workdir: str) -> dict[str, Any]:
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.ingest import ingest

    path = history_file(workdir, rows)
    with scratch_store(backend, workdir) as (engine, _):
        create_account(engine, "bench", currency="EUR", timezone="Europe/Berlin")
        started = time.perf_counter()
        first = ingest(engine, "bench", path)
        stored_s = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest(engine, "bench", path)
        again_s = time.perf_counter() - started
    assert first.inserted == first.rows_read and again.unchanged == again.rows_read
    return {
        "rows": first.rows_read,
        "seconds": stored_s,
        "rows_per_s": first.rows_read / stored_s,
        "reingest_seconds": again_s,
        "reingest_rows_per_s": again.rows_read / again_s,
    }
