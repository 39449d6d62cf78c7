"""Stores for fault tests: a migrated SQLite file or PostgreSQL schema with one fitted account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from optimizer.io import write_canonical_csv
from optimizer.simulate import simulate
from optimizer.usecases.accounts import create_account
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from tests.api.harness import store
from tests.conftest import POSTGRES_URL
from tests.stores import BACKENDS

ACCOUNT = "acme"


@dataclass
class Store:
    engine: Engine
    env: dict[str, str]
    workdir: Path
    history_end: dt.date


def history(workdir: Path, name: str, *, days: int, end: dt.date, seed: int = 3) -> Path:
    sim = simulate(
        campaigns=3,
        keywords_per_campaign=3,
        days=days,
        seed=seed,
        start=end - dt.timedelta(days=days - 1),
        currency="EUR",
    )
    path = workdir / name
    write_canonical_csv(sim.history, path)
    return path


@pytest.fixture(
    params=BACKENDS,
)
def fitted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """One EUR account with 60 days of history and a fit."""
    with store(request.param, tmp_path, POSTGRES_URL) as (engine, env):
        end = dt.date.today() - dt.timedelta(days=1)
        create_account(engine, ACCOUNT, currency="EUR", timezone="UTC")
        ingest(engine, ACCOUNT, history(tmp_path, "first.csv", days=60, end=end))
        fit(engine, ACCOUNT)
        yield Store(engine, env, tmp_path, end)
