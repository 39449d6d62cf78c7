"""The nightly queries on a large PostgreSQL performance table: timings and EXPLAIN plans.

The plans (EXPLAIN ANALYZE, BUFFERS) are written to `<workdir>/explain-<rows>.txt` for
docs/scaling.md; `index_plans` counts the queries whose plan reads through an index.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.registry import case

__all__ = ["nightly_queries"]

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
            plans = {
                name: _explain(connection, sql, params) for name, sql in _NIGHTLY_QUERIES.items()
            }
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    rows = accounts * entities * days
    report = Path(workdir) / f"explain-{rows}.txt"
    report.write_text(
        "".join(f"-- {name}\n{_NIGHTLY_QUERIES[name]}\n{plan}\n\n" for name, plan in plans.items())
    )
    return {
        "rows": rows,
        "rows_per_account": entities * days,
        "load_seconds": load_s,
        **timings,
        "index_plans": sum("Index" in plan for plan in plans.values()),
        "queries": len(plans),
    }


def _explain(connection: Any, sql: str, params: dict[str, Any]) -> str:
    from sqlalchemy import text

    rows = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"), params).all()
    return "\n".join(str(row[0]) for row in rows)


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
