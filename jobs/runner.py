"""What an account's nightly job calls, and the store, settings and clock it runs against.

APScheduler persists a job as a reference to `nightly_job` plus the account name, so the function
cannot carry the engine: `configure` (called by `jobs.scheduler` before jobs run) sets it for the
process. The clock is replaceable so tests drive nights without sleeping through them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from jobs import metrics
from optimizer.access import Principal, system_principal
from optimizer.settings import Settings, get_settings
from optimizer.store.engine import make_engine
from optimizer.usecases.accounts import get_account
from optimizer.usecases.nightly import (
    CATCH_UP_AFTER,
    JobRun,
    Trigger,
    nightly_fire_time,
    run_nightly,
)

__all__ = ["JOB_FUNCTION", "Clock", "configure", "nightly_job", "system_clock"]

Clock = Callable[[], dt.datetime]
JOB_FUNCTION = "jobs.runner:nightly_job"
"""The textual reference APScheduler stores for every nightly job."""

_PRINCIPAL: Principal = system_principal("nightly job")
_log = logging.getLogger("ppcopt.jobs")


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Context:
    engine: Engine | None = None
    settings: Settings | None = None
    clock: Clock = system_clock


_context = _Context()


def configure(engine: Engine, settings: Settings, clock: Clock = system_clock) -> None:
    """Point this process's nightly jobs at `engine` with `settings`, timed by `clock`."""
    _context.engine = engine
    _context.settings = settings
    _context.clock = clock


def nightly_job(account_name: str) -> JobRun | None:
    """Run the account's night; never raises, so one account cannot disturb the scheduler."""
    settings = _context.settings or get_settings()
    if _context.engine is None:
        _context.engine = make_engine(settings.database_url, schema=settings.database_schema)
    engine = _context.engine
    now = _context.clock()
    try:
        account = get_account(engine, account_name)
        fire = nightly_fire_time(account.timezone, settings.nightly_time, now)
        trigger: Trigger = "catch-up" if now - fire > CATCH_UP_AFTER else "schedule"
        run = run_nightly(
            engine, _PRINCIPAL, account.name, now=now, trigger=trigger, settings=settings
        )
    except Exception:
        _log.exception("the nightly job of account %s could not run", account_name)
        return None
    metrics.observe(run)
    return run
