"""The nightly job for many small accounts: inbox file -> ingest -> refit -> publish, one by one.

Set-up (not timed): each account gets 60 days of simulated history (2 campaigns x 3 keywords + a
campaign-level one), an approved cap over the night, and a file with three more days in its inbox.
Timed: `run_nightly` for every account in turn, as the scheduler runs them.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

from bench.registry import case
from bench.suites._store import scratch_store

__all__ = ["nightly_accounts"]

_START = dt.date(2026, 1, 20)
_DAYS = 60
_NEW_DAYS = 3
_NIGHT = dt.datetime(2026, 3, 23, 3, 30, tzinfo=dt.UTC)


def _history(folder: Path, days: int) -> Path:
    from optimizer.io import write_canonical_csv
    from optimizer.simulate import simulate

    path = folder / f"history-{days}.csv"
    if not path.exists():
        sim = simulate(campaigns=2, keywords_per_campaign=3, days=days, seed=5, start=_START)
        write_canonical_csv(sim.history, path)
    return path


@case("nightly_accounts")
def nightly_accounts(*, accounts: int, backend: str = "postgres", workdir: str) -> dict[str, Any]:
    from optimizer.access import Principal, Role, system_principal
    from optimizer.settings import Settings
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.caps import decide_cap, propose_cap
    from optimizer.usecases.inbox import inbox_folder
    from optimizer.usecases.ingest import ingest
    from optimizer.usecases.nightly import run_nightly

    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    initial = _history(folder, _DAYS)
    update = _history(folder, _DAYS + _NEW_DAYS)
    manager = Principal(role=Role.MANAGER, label="bench manager")
    finance = Principal(role=Role.FINANCE, label="bench finance")
    job = system_principal("bench nightly")
    inbox = folder / f"inbox-{time.time_ns()}"
    with scratch_store(backend, workdir) as (engine, env):
        names = [f"shop{i:04d}" for i in range(accounts)]
        started = time.perf_counter()
        for name in names:
            create_account(engine, name, currency="EUR", timezone="Europe/Berlin")
            ingest(engine, name, initial, today=_START + dt.timedelta(days=_DAYS + 10))
            cap = propose_cap(
                engine,
                manager,
                name,
                period_start=dt.date(2026, 3, 1),
                period_end=dt.date(2026, 4, 30),
                amount="60000.00",
                currency="EUR",
            )
            decide_cap(engine, finance, cap.id, approve=True)
            target = inbox_folder(inbox, name)
            target.mkdir(parents=True)
            (target / "export.csv").write_bytes(update.read_bytes())
        setup_s = time.perf_counter() - started
        settings = Settings(
            database_url=env["PPCOPT_DATABASE_URL"],
            database_schema=env.get("PPCOPT_DATABASE_SCHEMA"),
            inbox=inbox,
            nightly_time="05:30",
            job_backoff_seconds=0.0,
        )
        per_account = []
        failed = 0
        started = time.perf_counter()
        for name in names:
            begun = time.perf_counter()
            run = run_nightly(engine, job, name, now=_NIGHT, settings=settings)
            per_account.append(time.perf_counter() - begun)
            failed += run.status != "succeeded" or not run.curves_refit
        seconds = time.perf_counter() - started
    return {
        "accounts": accounts,
        "failed_runs": failed,
        "setup_s": setup_s,
        "seconds": seconds,
        "per_account_median_s": statistics.median(per_account),
        "per_account_max_s": max(per_account),
    }
