"""Child process for the two-scheduler test: a real scheduler on the shared store, real clock.

Usage: python -m tests.jobs.scheduler_child URL SCHEMA|- INBOX GO_FILE
Prints "ready", waits for GO_FILE (so both children start together), runs the scheduler until no
stored nightly job is due, then prints one JSON line with the runs this process made.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

_TIMEOUT_SECONDS = 90


def main(argv: list[str]) -> None:
    url, schema, inbox, go_file = argv
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    from jobs.scheduler import NightlyScheduler, build_scheduler, start
    from optimizer.settings import Settings
    from optimizer.store.engine import make_engine

    settings = Settings(
        database_url=url,
        database_schema=None if schema == "-" else schema,
        inbox=Path(inbox),
        job_backoff_seconds=0,
    )
    engine = make_engine(url, schema=settings.database_schema)
    print("ready", flush=True)
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while not Path(go_file).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    made: list[dict[str, Any]] = []

    def executed(event: JobExecutionEvent) -> None:
        run = event.retval
        if run is not None:
            made.append({"account": run.account, "run_key": run.run_key, "status": run.status})

    scheduler = NightlyScheduler()
    build_scheduler(engine, settings, scheduler=scheduler)
    scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    start(scheduler, engine, settings, sync_interval_seconds=None)
    while time.monotonic() < deadline:
        now = dt.datetime.now(dt.UTC)
        due = [j for j in scheduler.get_jobs() if j.next_run_time and j.next_run_time <= now]
        if not due:
            break
        time.sleep(0.1)
    time.sleep(1.0)
    scheduler.shutdown(wait=True)
    print(json.dumps(made), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
