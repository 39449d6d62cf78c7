"""Job outcomes for Prometheus: live counters in the scheduler's process, store-derived gauges
for any other process (the API serves /metrics but does not run the jobs).

The counters live in prometheus_client's default registry, so a /metrics endpoint built on it
exports them. `JobRunsCollector` reads `job_runs` at scrape time instead; its metric names differ
from the counters', so both can be registered in one process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from sqlalchemy import Engine

from optimizer.usecases.nightly import JobRun, run_summary

__all__ = [
    "JOB_LAST_SUCCESS",
    "JOB_RUNS",
    "JOB_RUN_SECONDS",
    "JobRunsCollector",
    "job_metrics",
    "observe",
    "register_store_collector",
]

JOB_RUNS = Counter(
    "ppcopt_job_runs", "Nightly pipeline runs in this process, by outcome.", ["status"]
)
JOB_LAST_SUCCESS = Gauge(
    "ppcopt_job_last_success_timestamp_seconds",
    "When this process last finished a successful run of the account (Unix time).",
    ["account"],
)
JOB_RUN_SECONDS = Histogram(
    "ppcopt_job_run_duration_seconds",
    "How long finished runs took.",
    buckets=(1, 5, 15, 60, 300, 900, 3600),
)


def observe(run: JobRun) -> None:
    """Count a run this process made (call it after `run_nightly`)."""
    JOB_RUNS.labels(status=run.status).inc()
    if run.finished_at is not None and run.status != "skipped":
        JOB_RUN_SECONDS.observe((run.finished_at - run.started_at).total_seconds())
    if run.status == "succeeded" and run.finished_at is not None:
        JOB_LAST_SUCCESS.labels(account=run.account).set(run.finished_at.timestamp())


def job_metrics(engine: Engine, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Job health from the store, per account name: failures in the last 24 h, last success (Unix
    time or None), the status of the last finished run (or None), runs in progress, how many days
    old the account's newest reported data are (or None) and whether its last run planned on
    stale data."""
    today = (now if now is not None else dt.datetime.now(dt.UTC)).date()
    return {
        "accounts": {
            s.account: {
                "failures_last_24h": s.failures_last_24h,
                "last_success_timestamp": (
                    None if s.last_success_at is None else s.last_success_at.timestamp()
                ),
                "last_status": s.last_status,
                "running": s.running,
                "data_age_days": (
                    None if s.newest_data_day is None else (today - s.newest_data_day).days
                ),
                "last_run_stale_data": s.last_run_stale,
            }
            for s in run_summary(engine, now=now)
        }
    }


class JobRunsCollector(Collector):
    """Gauges computed from `job_runs` at every scrape."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The names only, so registering does not query the store."""
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        failures, success, failed, age, stale = self._families()
        for account, health in job_metrics(self._engine)["accounts"].items():
            failures.add_metric([account], health["failures_last_24h"])
            if health["last_success_timestamp"] is not None:
                success.add_metric([account], health["last_success_timestamp"])
            failed.add_metric([account], 1.0 if health["last_status"] == "failed" else 0.0)
            if health["data_age_days"] is not None:
                age.add_metric([account], health["data_age_days"])
            stale.add_metric([account], 1.0 if health["last_run_stale_data"] else 0.0)
        yield from (failures, success, failed, age, stale)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        failures = GaugeMetricFamily(
            "ppcopt_job_failures_last_24h",
            "Failed nightly runs started in the last 24 hours, per account.",
            labels=["account"],
        )
        success = GaugeMetricFamily(
            "ppcopt_job_store_last_success_timestamp_seconds",
            "When the account's last successful run finished (Unix time).",
            labels=["account"],
        )
        failed = GaugeMetricFamily(
            "ppcopt_job_last_run_failed",
            "1 when the account's most recent finished run failed.",
            labels=["account"],
        )
        age = GaugeMetricFamily(
            "ppcopt_account_data_age_days",
            "Days from the account's newest reported performance day to today (UTC).",
            labels=["account"],
        )
        stale = GaugeMetricFamily(
            "ppcopt_job_last_run_stale_data",
            "1 when the account's most recent finished run planned on data older than "
            "PPCOPT_STALE_DATA_DAYS (its unreported days were estimated).",
            labels=["account"],
        )
        return failures, success, failed, age, stale


def register_store_collector(
    engine: Engine, registry: CollectorRegistry = REGISTRY
) -> JobRunsCollector:
    """Export the store-derived gauges from `registry` (once per process)."""
    collector = JobRunsCollector(engine)
    registry.register(collector)
    return collector
