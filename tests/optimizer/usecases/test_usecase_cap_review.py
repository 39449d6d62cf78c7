"""A cap as finance reviews it: reported spend, the days not yet reported (estimated as publish
counts them), the forecast at the period's end inside its band, and the plans under the cap."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.io import write_canonical_csv
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.performance import spend_between
from optimizer.usecases.accounts import create_account, find_account
from optimizer.usecases.cap_review import review_cap
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.recommendations import publish

FINANCE = system_principal("cli:finance-1", Role.FINANCE)
APPROVER = system_principal("cli:finance-2", Role.FINANCE)
MANAGER = system_principal("cli:manager", Role.MANAGER)
HISTORY_END = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)  # 26 Nov not reported; plans 28 Nov


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    workdir: Path = tmp_path_factory.mktemp("capreview")
    engine = make_engine(f"sqlite:///{workdir / 'store.db'}")
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    sim = simulate(campaigns=3, keywords_per_campaign=3, days=45, seed=4,
                   start=HISTORY_END - dt.timedelta(days=44), currency="EUR")  # fmt: skip
    write_canonical_csv(sim.history, workdir / "shop.csv")
    ingest(engine, "shop", workdir / "shop.csv")
    fit(engine, "shop")
    yield engine, "shop"
    engine.dispose()


def test_a_running_caps_numbers_add_up(account: tuple[Engine, str]) -> None:
    engine, name = account
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
    cap = propose_cap(engine, FINANCE, name, period_start=start, period_end=end,
                      amount="60000", currency="EUR")  # fmt: skip
    decide_cap(engine, APPROVER, cap.id, approve=True)
    published = publish(engine, MANAGER, name, dt.date(2026, 11, 26))
    review = review_cap(engine, FINANCE, cap.id, now=NOW)
    assert review.day == dt.date(2026, 11, 28)
    with transaction(engine) as connection:
        account_id = find_account(connection, name).id
        reported = spend_between(connection, account_id, start, review.day)
    assert review.reported_micros == reported
    assert sum(m for _, m in review.daily) == reported
    assert [u.day for u in review.unreported] == [dt.date(2026, 11, 26), dt.date(2026, 11, 27)]
    assert review.unreported[0].source == "published plan"
    assert review.unreported[0].expected_micros == published.total_micros
    assert [p.id for p in review.plans] == [published.id]
    forecast = review.forecast
    assert forecast is not None
    assert forecast.pacing.forecast[0][0] == review.day
    assert forecast.pacing.forecast[-1][0] == end
    assert forecast.low_micros <= forecast.end_micros <= forecast.high_micros
    planned = sum(m for _, m in forecast.pacing.forecast)
    assert forecast.end_micros == reported + review.estimated_micros + planned


def test_an_ended_cap_has_its_spend_and_no_forecast(account: tuple[Engine, str]) -> None:
    engine, name = account
    start, end = dt.date(2026, 10, 20), dt.date(2026, 10, 31)
    cap = propose_cap(engine, FINANCE, name, period_start=start, period_end=end,
                      amount="9000", currency="EUR")  # fmt: skip
    review = review_cap(engine, FINANCE, cap.id, now=NOW)
    with transaction(engine) as connection:
        account_id = find_account(connection, name).id
        reported = spend_between(connection, account_id, start, end + dt.timedelta(days=1))
    assert review.reported_micros == reported > 0
    assert review.elapsed_days == 12 and len(review.daily) == 12
    assert review.forecast is None and "ended" in review.forecast_note
    assert review.unreported == ()
