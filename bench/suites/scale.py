"""Scale: per-entity fit cost on each engine; the nightly queries on a large PostgreSQL table."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from typing import Any

from bench.plan import BenchItem
from bench.registry import case

__all__ = ["PLAN_ITEMS", "fit_engine", "nightly_queries"]

_POSTGRES_URL = os.environ.get(
    "PPCOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_QUERY_REPEATS = 5

_NIGHTLY_QUERIES: dict[str, str] = {
    "entities_ms": (
        "SELECT id, campaign, ad_group, keyword, match_type FROM entities WHERE account_id = :a"
    ),
    "fingerprint_ms": (
        "SELECT count(*), max(updated_at), min(date), max(date) FROM performance "
        "WHERE account_id = :a"
    ),
    "history_ms": (
        "SELECT entity_id, date, spend_micros, clicks, impressions, conversions_micros, "
        "value_micros FROM performance WHERE account_id = :a"
    ),
    "month_to_date_ms": (
        "SELECT coalesce(sum(spend_micros), 0) FROM performance WHERE account_id = :a "
        "AND date >= :month AND date < :day"
    ),
}


@case("fit_engine")
def fit_engine(
    *,
    campaigns: int,
    keywords: int,
    days: int = 180,
    engine: str = "local",
    n_jobs: int = 1,
    workers: int = 2,
    workdir: str = "",
) -> dict[str, Any]:
    """Fit a simulated account on one engine; pools are started and warmed up before the clock."""
    from optimizer.models import FitOptions, fit_account
    from optimizer.simulate import simulate

    history = simulate(campaigns=campaigns, keywords_per_campaign=keywords, days=days, seed=1)
    warmup = simulate(campaigns=workers, keywords_per_campaign=2, days=60, seed=2).history
    cluster = None
    address = None
    if engine == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=40,
        )
        address = cluster.scheduler_address
    try:
        common: dict[str, Any] = {"n_jobs": n_jobs, "engine": engine, "dask_address": address}
        fit_account(warmup, FitOptions(bootstrap=2), **common)
        started = time.perf_counter()
        curves = fit_account(history.history, **common)
        seconds = time.perf_counter() - started
    finally:
        if cluster is not None:
            cluster.close()
    entities = len(curves)
    return {
        "entities": entities,
        "seconds": seconds,
        "ms_per_entity": 1000 * seconds / entities,
        "entities_per_s": entities / seconds,
    }


@case("nightly_queries")
def nightly_queries(
    *, accounts: int, entities: int, days: int, workdir: str = ""
) -> dict[str, Any]:
    """Fill a throwaway schema with accounts x entities x days rows (day by day, as daily ingests
    lay them out), then time the nightly queries for one account (median of a few runs)."""
    from sqlalchemy import create_engine, text

    from optimizer.store.engine import make_engine, upgrade

    schema = f"bench_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(_POSTGRES_URL, schema=schema)
    try:
        upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as connection:
            for statement in _fill_statements(accounts, entities, days):
                connection.execute(text(statement))
        load_s = time.perf_counter() - started
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE performance")
            )
            params = {"a": accounts // 2 + 1, "month": "2026-06-01", "day": "2026-06-28"}
            timings = {
                name: _median_ms(connection, text(sql), params)
                for name, sql in _NIGHTLY_QUERIES.items()
            }
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {"rows": accounts * entities * days, "load_seconds": load_s, **timings}


def _fill_statements(accounts: int, entities: int, days: int) -> list[str]:
    return [
        "INSERT INTO accounts (name, currency, timezone) SELECT 'acct' || a, 'EUR', "
        f"'Europe/Berlin' FROM generate_series(1, {accounts}) a",
        "INSERT INTO entities (account_id, campaign, ad_group, keyword, match_type) "
        "SELECT a.id, 'c' || (k % 20), 'ag' || (k % 100), 'kw ' || k, 'exact' "
        f"FROM accounts a, generate_series(1, {entities}) k ORDER BY a.id, k",
        f"DO $$ BEGIN FOR d IN 0..{days - 1} LOOP "
        "INSERT INTO performance SELECT e.id, date '2026-01-01' + d, e.account_id, "
        "(random() * 5e7)::bigint, (random() * 100)::bigint, (random() * 1000)::bigint, "
        "(random() * 5e6)::bigint, (random() * 2e8)::bigint, now() "
        "FROM entities e ORDER BY e.account_id, e.id; END LOOP; END $$",
    ]


def _median_ms(connection: Any, statement: Any, params: dict[str, Any]) -> float:
    runs = []
    for _ in range(_QUERY_REPEATS):
        started = time.perf_counter()
        connection.execute(statement, params).all()
        runs.append(1000 * (time.perf_counter() - started))
    return statistics.median(runs)


_FIT_SIZE = {"campaigns": 20, "keywords": 50}
_FIT_QUICK = {"campaigns": 2, "keywords": 5}

PLAN_ITEMS: list[BenchItem] = [
    BenchItem(
        "scale",
        f"fit {_FIT_SIZE['campaigns'] * _FIT_SIZE['keywords']:,} keywords x 180 days, "
        "local engine, 1 process",
        "fit_engine",
        {**_FIT_SIZE, "engine": "local", "n_jobs": 1},
        {**_FIT_QUICK, "engine": "local", "n_jobs": 1},
        repeats=1,
        note="per-entity fit cost on one core; docs/scaling.md sizes clusters from it",
    ),
    BenchItem(
        "scale",
        "the same on the local engine, 2 processes (joblib loky)",
        "fit_engine",
        {**_FIT_SIZE, "engine": "local", "n_jobs": 2},
        {**_FIT_QUICK, "engine": "local", "n_jobs": 2},
        repeats=1,
    ),
    BenchItem(
        "scale",
        "the same on Dask (LocalCluster, 2 worker processes x 1 thread)",
        "fit_engine",
        {**_FIT_SIZE, "engine": "dask", "workers": 2},
        {**_FIT_QUICK, "engine": "dask", "workers": 2},
        repeats=1,
    ),
    BenchItem(
        "scale",
        "nightly queries for one account of 2,000,000 performance rows (PostgreSQL)",
        "nightly_queries",
        {"accounts": 40, "entities": 280, "days": 180},
        {"accounts": 4, "entities": 20, "days": 40},
        repeats=1,
        targets=(("month_to_date_ms", "<=", 50.0, "month-to-date spend <= 50 ms"),),
    ),
]
