"""Benchmark cases, registered with `bench.case.case` on import."""

from bench.suites import ingest

__all__ = ["ingest"]
