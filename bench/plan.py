"""What `make bench` measures, at which size, against which target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PLAN", "BenchItem"]


@dataclass(frozen=True)
class BenchItem:
    suite: str
    label: str
    case: str
    kwargs: dict[str, Any]
    quick_kwargs: dict[str, Any]
    repeats: int = 3
    targets: tuple[tuple[str, str, float, str], ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_INGEST_ROWS = 1_000_000
_QUICK_ROWS = 20_000
_GIB = 1024.0

PLAN: list[BenchItem] = [
    BenchItem(
        "ingest",
        "parse + validate a 1,000,000-row canonical CSV",
        "ingest_parse",
        {"rows": _INGEST_ROWS},
        {"rows": _QUICK_ROWS},
        targets=(
            ("rows_per_s", ">=", 100_000, ">= 100,000 rows/s"),
            ("peak_rss_mib", "<=", _GIB, "peak memory < 1 GiB"),
        ),
    ),
    BenchItem(
        "ingest",
        "store 1,000,000 rows into SQLite (parse + validate + upsert), then re-ingest",
        "ingest_store",
        {"rows": _INGEST_ROWS, "backend": "sqlite"},
        {"rows": _QUICK_ROWS, "backend": "sqlite"},
        repeats=1,
        targets=(
            ("rows_per_s", ">=", 50_000, ">= 50,000 rows/s stored"),
            ("peak_rss_mib", "<=", _GIB, "peak memory < 1 GiB"),
        ),
    ),
    BenchItem(
        "ingest",
        "store 1,000,000 rows into PostgreSQL (parse + validate + COPY + merge), then re-ingest",
        "ingest_store",
        {"rows": _INGEST_ROWS, "backend": "postgres"},
        {"rows": _QUICK_ROWS, "backend": "postgres"},
        repeats=1,
        targets=(
            ("rows_per_s", ">=", 50_000, ">= 50,000 rows/s stored"),
            ("peak_rss_mib", "<=", _GIB, "peak memory < 1 GiB"),
        ),
    ),
]
