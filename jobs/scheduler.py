"""The APScheduler 3 scheduler: one nightly job per account, persisted in the store.

Jobs live in the store's `apscheduler_jobs` table (SQLAlchemyJobStore on the same engine, so the
same database and, on PostgreSQL, the same schema). Each fires at `nightly_time` in its account's
own time zone, so it follows that zone's daylight-saving changes. Missed nights are caught up once
on start (coalesce) if they are no older than the misfire grace time. The scheduler syncs its jobs
with the accounts table on start and every few minutes, so a new account gets its job without a
restart. Two schedulers on one store both fire a night; the run key in `job_runs` lets only one
of them run it (see `optimizer.usecases.nightly`).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from jobs.runner import JOB_FUNCTION, Clock, configure, system_clock
from optimizer.settings import Settings, get_settings
from optimizer.store.engine import make_engine, upgrade
from optimizer.store.tables import scheduler_jobs
from optimizer.usecases.accounts import Account, list_accounts

__all__ = [
    "NIGHTLY_PREFIX",
    "SYNC_INTERVAL_SECONDS",
    "NightlyScheduler",
    "SyncResult",
    "build_scheduler",
    "nightly_job_id",
    "nightly_trigger",
    "run_until_stopped",
    "start",
    "start_background",
    "sync_jobs",
]

NIGHTLY_PREFIX = "nightly:"
SYNC_INTERVAL_SECONDS = 300.0
_STORE = "default"
_MEMORY = "memory"
_SYNC_JOB_ID = "sync-accounts"
_WORKERS = 2

_log = logging.getLogger("ppcopt.jobs")


@dataclass(frozen=True, slots=True)
class SyncResult:
    """Job ids changed by one sync."""

    added: tuple[str, ...] = ()
    rescheduled: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class NightlyScheduler(BackgroundScheduler):  # type: ignore[misc]
    """A BackgroundScheduler that stops looking for due jobs once shut down.

    APScheduler 3's loop looks once more after `shutdown()`; a job due then fails to reach the
    stopped executor but is still moved to its next run time, so that night would be lost.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        wait: float | None = super()._process_jobs()
        return wait


def nightly_trigger(timezone: str, nightly_time: str) -> CronTrigger:
    """Every day at `nightly_time` (`HH:MM`) on the wall clock of `timezone`."""
    hour, minute = (int(part) for part in nightly_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(timezone))


def nightly_job_id(account: Account) -> str:
    """By account id, which never changes, not by name."""
    return f"{NIGHTLY_PREFIX}{account.id}"


def build_scheduler(
    engine: Engine,
    settings: Settings,
    *,
    scheduler: BaseScheduler | None = None,
    executor: BaseExecutor | None = None,
    clock: Clock = system_clock,
) -> BaseScheduler:
    """A configured, not yet started scheduler (a NightlyScheduler unless one is given)."""
    configure(engine, settings, clock)
    built = scheduler if scheduler is not None else NightlyScheduler()
    built.configure(
        jobstores={
            _STORE: SQLAlchemyJobStore(engine=engine, tablename=scheduler_jobs.name),
            _MEMORY: MemoryJobStore(),
        },
        executors={"default": executor or ThreadPoolExecutor(max_workers=_WORKERS)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.job_misfire_grace_seconds,
        },
        timezone=dt.UTC,
    )
    built.add_listener(_log_missed, EVENT_JOB_MISSED)
    return built


def start(
    scheduler: BaseScheduler,
    engine: Engine,
    settings: Settings,
    *,
    sync_interval_seconds: float | None = SYNC_INTERVAL_SECONDS,
) -> None:
    """Start, sync the jobs with the accounts, then process jobs (missed nights first)."""
    scheduler.start(paused=True)
    sync_jobs(scheduler, engine, settings)
    if sync_interval_seconds is not None:
        scheduler.add_job(
            sync_jobs,
            "interval",
            seconds=sync_interval_seconds,
            args=[scheduler, engine, settings],
            id=_SYNC_JOB_ID,
            jobstore=_MEMORY,
            replace_existing=True,
        )
    scheduler.resume()


def sync_jobs(scheduler: BaseScheduler, engine: Engine, settings: Settings) -> SyncResult:
    """One job per account with the configured time and grace; jobs of vanished accounts go.

    An unchanged job is left alone, so its pending (possibly missed) run time survives a restart.
    """
    wanted = {nightly_job_id(account): account for account in list_accounts(engine)}
    existing = {
        job.id: job
        for job in scheduler.get_jobs(jobstore=_STORE)
        if job.id.startswith(NIGHTLY_PREFIX)
    }
    added: list[str] = []
    rescheduled: list[str] = []
    for job_id, account in wanted.items():
        trigger = nightly_trigger(account.timezone, settings.nightly_time)
        job = existing.get(job_id)
        if job is None:
            scheduler.add_job(
                JOB_FUNCTION,
                trigger=trigger,
                id=job_id,
                name=f"nightly {account.name}",
                args=[account.name],
                jobstore=_STORE,
                replace_existing=True,
            )
            added.append(job_id)
        elif _shape(job.trigger) != _shape(trigger):
            scheduler.reschedule_job(job_id, jobstore=_STORE, trigger=trigger)
            rescheduled.append(job_id)
        elif job.misfire_grace_time != settings.job_misfire_grace_seconds:
            scheduler.modify_job(
                job_id, jobstore=_STORE, misfire_grace_time=settings.job_misfire_grace_seconds
            )
    removed: list[str] = []
    for job_id in sorted(set(existing) - set(wanted)):
        try:
            scheduler.remove_job(job_id, jobstore=_STORE)
        except JobLookupError:
            continue
        removed.append(job_id)
    result = SyncResult(tuple(added), tuple(rescheduled), tuple(removed))
    if added or rescheduled or removed:
        _log.info("nightly jobs synced with accounts: %s", result)
    return result


def start_background(
    settings: Settings | None = None, *, engine: Engine | None = None
) -> NightlyScheduler:
    """The scheduler running in a background thread of this process (`serve --with-scheduler`).

    Stop it with `scheduler.shutdown()`; that waits for runs in progress.
    """
    config = settings if settings is not None else get_settings()
    store = engine if engine is not None else _engine(config)
    upgrade(store)
    scheduler = NightlyScheduler()
    build_scheduler(store, config, scheduler=scheduler)
    start(scheduler, store, config)
    return scheduler


def run_until_stopped(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the scheduler until SIGTERM / SIGINT (or `stop` is set), then finish running jobs."""
    done = stop if stop is not None else threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: done.set())
    scheduler = start_background(settings, engine=engine)
    _log.info("scheduler started; %d nightly job(s)", len(scheduler.get_jobs(jobstore=_STORE)))
    try:
        done.wait()
    finally:
        _log.info("scheduler stopping; waiting for runs in progress")
        scheduler.shutdown(wait=True)


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url, schema=settings.database_schema)


def _shape(trigger: Any) -> tuple[str, str]:
    return str(trigger), str(trigger.timezone)


def _log_missed(event: JobExecutionEvent) -> None:
    _log.warning(
        "job %s missed its run at %s: the scheduler was down for longer than the misfire grace "
        "time; the next night runs as usual",
        event.job_id,
        event.scheduled_run_time,
    )
