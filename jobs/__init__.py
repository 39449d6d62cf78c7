"""Nightly jobs: an APScheduler 3 shell over `optimizer.usecases.nightly`.

`jobs.scheduler` builds the scheduler (one job per account, persisted in the store), `jobs.runner`
is what a job calls, `jobs.metrics` exposes run outcomes to Prometheus.
"""

from __future__ import annotations

__all__: list[str] = []
