"""The invariant finance relies on: a published recommendation never adds up to more than the
approved cap it obeys, by any path that publishes (the use case behind the API's POST and
`ppcopt publish`, and the nightly run), for awkward caps too: one cent, just under a million,
and yen, which have no minor unit."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from optimizer.access import Role, system_principal
from optimizer.errors import OptimizerError
from optimizer.io import write_canonical_csv
from optimizer.money import decimal_to_micros
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, upgrade
from optimizer.usecases.accounts import create_account
from optimizer.usecases.caps import Cap, decide_cap, propose_cap
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.nightly import run_nightly
from optimizer.usecases.recommendations import Recommendation, history, latest, publish

PROPOSER = system_principal("cli:finance-1", Role.FINANCE)
APPROVER = system_principal("cli:finance-2", Role.FINANCE)
MANAGER = system_principal("cli:manager", Role.MANAGER)
CURRENCIES = {"EUR": "Europe/Berlin", "JPY": "Asia/Tokyo"}
_days = itertools.count(2)


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dt.date]]:
    """One fitted account per currency (SQLite; the arithmetic does not depend on the store)."""
    workdir: Path = tmp_path_factory.mktemp("caps")
    engine = make_engine(f"sqlite:///{workdir / 'caps.db'}")
    upgrade(engine)
    end = dt.date.today() - dt.timedelta(days=1)
    for currency, timezone in CURRENCIES.items():
        create_account(engine, currency.lower(), currency=currency, timezone=timezone)
        sim = simulate(campaigns=2, keywords_per_campaign=3, days=45, seed=9,
                       start=end - dt.timedelta(days=44), currency=currency)  # fmt: skip
        path = workdir / f"{currency}.csv"
        write_canonical_csv(sim.history, path)
        ingest(engine, currency.lower(), path)
        fit(engine, currency.lower())
    yield engine, end
    engine.dispose()


def _approved(engine: Engine, account: str, currency: str, day: dt.date, amount: str) -> Cap:
    cap = propose_cap(engine, PROPOSER, account, period_start=day, period_end=day,
                      amount=amount, currency=currency)  # fmt: skip
    return decide_cap(engine, APPROVER, cap.id, approve=True)


def _assert_within(rec: Recommendation, cap: Cap) -> None:
    cap_micros = decimal_to_micros(Decimal(cap.amount), field="cap")
    assert rec.cap.id == cap.id
    assert rec.total_micros <= rec.budget_micros <= cap_micros
    rows = rec.table("keyword")["recommended_spend"]
    row_micros = sum(decimal_to_micros(Decimal(str(v)), field="row") for v in rows)
    assert row_micros <= cap_micros
    if rec.currency == "JPY":
        assert all(Decimal(str(v)) == Decimal(str(v)).to_integral_value() for v in rows)


def _publish_within(engine: Engine, account: str, day: dt.date, cap: Cap) -> bool:
    """Publish `day`; either it is refused and nothing is published, or it obeys the cap."""
    try:
        rec = publish(engine, MANAGER, account, day)
    except OptimizerError:
        assert history(engine, MANAGER, account, day) == []
        return False
    _assert_within(rec, cap)
    return True


AWKWARD = [("EUR", "0.01"), ("EUR", "999999.99"), ("EUR", "1.00"), ("JPY", "1"),
           ("JPY", "999999"), ("JPY", "7")]  # fmt: skip


@pytest.mark.parametrize(("currency", "amount"), AWKWARD, ids=[f"{c}-{a}" for c, a in AWKWARD])
def test_publish_stays_under_awkward_caps(
    shops: tuple[Engine, dt.date], currency: str, amount: str
) -> None:
    engine, end = shops
    day = end + dt.timedelta(days=next(_days))
    cap = _approved(engine, currency.lower(), currency, day, amount)
    published = _publish_within(engine, currency.lower(), day, cap)
    assert published or Decimal(amount) < 100, "a roomy cap must publish"


@settings(max_examples=12, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    currency=st.sampled_from(sorted(CURRENCIES)),
    cents=st.integers(min_value=1, max_value=99_999_999),
)
def test_publish_never_exceeds_any_cap(
    shops: tuple[Engine, dt.date], currency: str, cents: int
) -> None:
    engine, end = shops
    amount = str(cents // 100) if currency == "JPY" else f"{cents // 100}.{cents % 100:02d}"
    if currency == "JPY" and cents < 100:
        amount = str(cents)
    day = end + dt.timedelta(days=next(_days))
    cap = _approved(engine, currency.lower(), currency, day, amount)
    _publish_within(engine, currency.lower(), day, cap)


@pytest.mark.parametrize("amount", ["0.01", "999999.99"])
def test_nightly_run_stays_under_the_cap(
    shops: tuple[Engine, dt.date], tmp_path: Path, amount: str
) -> None:
    """The nightly run publishes tomorrow (account time) under the cap, or fails publishing
    nothing; each amount gets its own account so the runs do not share a day."""
    engine, end = shops
    account = f"night-{amount.replace('.', '-')}"
    create_account(engine, account, currency="EUR", timezone="UTC")
    sim = simulate(campaigns=2, keywords_per_campaign=3, days=45, seed=4,
                   start=end - dt.timedelta(days=44), currency="EUR")  # fmt: skip
    write_canonical_csv(sim.history, tmp_path / "h.csv")
    ingest(engine, account, tmp_path / "h.csv")
    now = dt.datetime.now(dt.UTC)
    tomorrow = now.date() + dt.timedelta(days=1)
    cap = _approved(engine, account, "EUR", tomorrow, amount)
    run = run_nightly(engine, system_principal("scheduler"), account, trigger="manual", now=now)
    if run.status != "succeeded":
        assert run.recommendation_id is None
        assert history(engine, MANAGER, account, tomorrow) == []
        assert amount == "0.01", run.error
        return
    rec = latest(engine, MANAGER, account)
    assert rec.id == run.recommendation_id
    _assert_within(rec, cap)


def test_publish_without_a_covering_cap_publishes_nothing(shops: tuple[Engine, dt.date]) -> None:
    engine, end = shops
    with pytest.raises(OptimizerError, match="approved"):
        publish(engine, MANAGER, "jpy", end + dt.timedelta(days=5000))
