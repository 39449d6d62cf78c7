"""Shared set-up for the nightly job tests: a small account with history, curves and a cap."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text

from optimizer.access import Principal, Role
from optimizer.io import write_canonical_csv
from optimizer.settings import Settings
from optimizer.simulate import simulate
from optimizer.usecases.accounts import Account, create_account
from optimizer.usecases.caps import Cap, decide_cap, propose_cap
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest

MANAGER = Principal(role=Role.MANAGER, label="manager m")
FINANCE = Principal(role=Role.FINANCE, label="finance f")
HISTORY_START = dt.date(2026, 1, 20)
HISTORY_DAYS = 60


@cache
def history_csv(start: dt.date = HISTORY_START, days: int = HISTORY_DAYS, seed: int = 5) -> bytes:
    """A small simulated export (2 keyword campaigns x 3 keywords + 1 campaign-level one)."""
    sim = simulate(campaigns=2, keywords_per_campaign=3, days=days, seed=seed, start=start)
    folder = Path(__import__("tempfile").mkdtemp(prefix="nightly-history-"))
    write_canonical_csv(sim.history, folder / "history.csv")
    return (folder / "history.csv").read_bytes()


def write_history(path: Path, start: dt.date, days: int, seed: int = 5) -> Path:
    path.write_bytes(history_csv(start, days, seed))
    return path


def approve_cap(
    engine: Engine, account: str, start: dt.date, end: dt.date, amount: str = "60000.00"
) -> Cap:
    """A cap proposed by a manager and approved by a different (finance) principal."""
    cap = propose_cap(
        engine, MANAGER, account, period_start=start, period_end=end, amount=amount, currency="EUR"
    )
    return decide_cap(engine, FINANCE, cap.id, approve=True)


def ready_account(
    engine: Engine,
    name: str = "shop",
    *,
    timezone: str = "Europe/Berlin",
    history_start: dt.date = HISTORY_START,
    days: int = HISTORY_DAYS,
    cap: tuple[dt.date, dt.date] | None = (dt.date(2026, 3, 1), dt.date(2026, 4, 30)),
) -> Account:
    """An account with stored history, fitted curves and (unless `cap` is None) an approved cap."""
    account = create_account(engine, name, currency="EUR", timezone=timezone)
    today = history_start + dt.timedelta(days=days + 30)
    ingest(engine, name, history_csv(history_start, days), source_name="history.csv", today=today)
    fit(engine, name)
    if cap is not None:
        approve_cap(engine, name, *cap)
    return account


def settings_for(engine: Engine, inbox: Path, **changes: object) -> Settings:
    """Settings for a test store: its URL (and PostgreSQL schema), an inbox, no real backoff."""
    values: dict[str, object] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "database_schema": schema_of(engine),
        "inbox": inbox,
        "nightly_time": "05:30",
        "job_backoff_seconds": 0.0,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def schema_of(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT current_schema()")).scalar_one())
