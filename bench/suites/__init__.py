"""Benchmark cases, registered with `bench.registry.case` on import."""

from bench.suites import (
    api,
    exploration,
    fit,
    fit_store,
    ingest,
    nightly,
    oracle_gap,
    pacing,
    quality,
    realism,
    scale,
    solver,
)

__all__ = [
    "api",
    "exploration",
    "fit",
    "fit_store",
    "ingest",
    "nightly",
    "oracle_gap",
    "pacing",
    "quality",
    "realism",
    "scale",
    "solver",
]
