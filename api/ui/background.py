"""The dashboard's "run the nightly job now": the run goes on in a thread of the server process,
and the request returns as soon as the run is recorded, so its page can show the steps live.

The thread is not a daemon: a server that shuts down waits for the run to end rather than cut it
mid-way (a process that is killed leaves it `running`, and the account's next run marks it failed).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from jobs.metrics import observe
from optimizer.access import Principal
from optimizer.settings import Settings
from optimizer.usecases.nightly import JobRun, run_nightly

__all__ = ["start_nightly"]

_log = logging.getLogger("ppcopt.jobs")


@dataclass
class _Outcome:
    run: JobRun | None = None
    error: BaseException | None = None


def start_nightly(engine: Engine, principal: Principal, account: str, settings: Settings) -> JobRun:
    """Start a manual run of `account` in a new thread; return it once recorded (`running`), or
    finished or skipped if it ended first. What stops it from starting (no such account, no
    right, another run in progress: ConflictError) is raised here, as `run_nightly` raises it."""
    ready = threading.Event()
    outcome = _Outcome()

    def started(run: JobRun) -> None:
        outcome.run = run
        ready.set()

    def work() -> None:
        try:
            run = run_nightly(
                engine, principal, account, trigger="manual", settings=settings, on_start=started
            )
        except BaseException as exc:  # handed to the request when the run never started
            if not ready.is_set():
                outcome.error = exc
            else:
                _log.exception("nightly run of account %s could not be recorded", account)
            ready.set()
            return
        observe(run)
        if not ready.is_set():
            outcome.run = run
            ready.set()

    threading.Thread(target=work, name=f"ppcopt-nightly-{account[:40]}").start()
    ready.wait()
    if outcome.error is not None:
        raise outcome.error
    assert outcome.run is not None
    return outcome.run
