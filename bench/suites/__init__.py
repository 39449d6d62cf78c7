"""Benchmark cases, registered with `bench.case.case` on import."""

from bench.suites import fit, ingest, solver

__all__ = ["fit", "ingest", "solver"]
