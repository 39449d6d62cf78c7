"""The store learns an account's conversion lag from its re-uploads, and fits with it; re-uploads
that raise recent conversions are the normal case, reported as such."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from optimizer.access import Role, system_principal
from optimizer.io import write_canonical_csv
from optimizer.models.lag import LagProfile
from optimizer.simulate import ConversionLag, Scenario, Simulation, TrueEvent, simulate
from optimizer.simulate.generator import DEFAULT_START
from optimizer.store.engine import transaction
from optimizer.store.tables import conversion_snapshots
from optimizer.usecases.accounts import create_account, find_account
from optimizer.usecases.events import add_event, list_events
from optimizer.usecases.fit import account_context, fit, latest_curves, set_lag_report
from optimizer.usecases.ingest import ingest

LAG = ConversionLag.typical(same_day=0.5, mean_days=6.0, horizon=30)
DAYS = 120
TODAY = DEFAULT_START + dt.timedelta(days=DAYS + 1)
MANAGER = system_principal("cli:maria", Role.MANAGER)


@pytest.fixture(scope="module")
def lagged() -> Simulation:
    return simulate(
        campaigns=3, keywords_per_campaign=4, days=DAYS, seed=81, scenario=Scenario(lag=LAG)
    )


def _csv(frame: object, tmp: Path, name: str) -> bytes:
    path = tmp / name
    write_canonical_csv(frame, path)  # type: ignore[arg-type]
    return path.read_bytes()


def _upload_history(engine: Engine, sim: Simulation, tmp: Path) -> list[int]:
    """The history up to 5 weeks before the end, then weekly exports of the last 35 days."""
    end = sim.history["date"].max().date()
    first = end - dt.timedelta(days=35)
    reports = [ingest(engine, "shop", io.BytesIO(_csv(sim.export(first), tmp, "0.csv")),
                      today=TODAY)]  # fmt: skip
    for week in range(4, -1, -1):
        as_of = end - dt.timedelta(days=7 * week)
        data = _csv(sim.export(as_of, last_days=35), tmp, f"{week}.csv")
        reports.append(ingest(engine, "shop", io.BytesIO(data), today=TODAY))
    return [r.late_conversion_days for r in reports]


def test_re_uploads_teach_the_store_the_lag(engine: Engine, lagged: Simulation, tmp_path: Path):
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    late = _upload_history(engine, lagged, tmp_path)
    assert late[0] == 0 and all(n > 0 for n in late[1:])
    outcome = fit(engine, "shop")
    lag = outcome.stored.curve_set.lag
    assert lag is not None and lag.source == "learned"
    for age in (0, 3, 7):
        assert lag.share(age)[()] == pytest.approx(LAG.share(age)[()], abs=0.07)
    stored = latest_curves(engine, "shop").curve_set
    assert stored.lag == lag and stored.grain == "day"


def test_late_conversions_are_reported_as_the_normal_case(
    engine: Engine, lagged: Simulation, tmp_path: Path
) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    end = lagged.history["date"].max().date()
    early = _csv(lagged.export(end - dt.timedelta(days=7)), tmp_path, "early.csv")
    later = _csv(lagged.export(end, last_days=35), tmp_path, "later.csv")
    ingest(engine, "shop", io.BytesIO(early), today=TODAY)
    report = ingest(engine, "shop", io.BytesIO(later), today=TODAY)
    assert report.updated > 0 and report.rejected == 0
    assert report.late_conversion_days > 0
    assert "gained late conversions" in report.summary() and "conversion lag" in report.summary()
    with transaction(engine) as connection:
        rows = connection.execute(select(func.count()).select_from(conversion_snapshots))
        before = rows.scalar_one()
    again = ingest(engine, "shop", io.BytesIO(later), today=TODAY)
    assert again.updated == 0 and again.late_conversion_days == 0
    with transaction(engine) as connection:
        rows = connection.execute(select(func.count()).select_from(conversion_snapshots))
        assert rows.scalar_one() == before


def test_without_re_uploads_the_default_lag_is_used_and_a_report_replaces_it(
    engine: Engine, lagged: Simulation, tmp_path: Path
) -> None:
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    ingest(engine, "shop", io.BytesIO(_csv(lagged.history, tmp_path, "h.csv")), today=TODAY)
    first = fit(engine, "shop", only_if_changed=True)
    assert first.stored.curve_set.lag is not None
    assert first.stored.curve_set.lag.source == "default"
    report = LagProfile.from_report(LAG.cumulative, "from a test")
    set_lag_report(engine, MANAGER, "shop", report, "lag.csv")
    second = fit(engine, "shop", only_if_changed=True)
    assert second.refitted
    assert second.stored.curve_set.lag == report


def test_a_confirmed_event_refits_and_proposals_are_stored(engine: Engine, tmp_path: Path):
    end = DEFAULT_START + dt.timedelta(days=DAYS - 1)
    promo = TrueEvent(end - dt.timedelta(days=20), end - dt.timedelta(days=8), "promo", 1.6)
    sim = simulate(campaigns=3, keywords_per_campaign=4, days=DAYS, seed=82,
                   scenario=Scenario(events=(promo,)))  # fmt: skip
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    ingest(engine, "shop", io.BytesIO(_csv(sim.history, tmp_path, "h.csv")), today=TODAY)
    outcome = fit(engine, "shop", only_if_changed=True)
    assert outcome.proposed_events == 1
    proposed = list_events(engine, MANAGER, "shop", status="proposed")
    assert [e.kind for e in proposed] == ["promo"]
    assert fit(engine, "shop", only_if_changed=True).refitted is False
    add_event(engine, MANAGER, "shop", start=promo.start, end=promo.end, kind="promo")
    assert fit(engine, "shop", only_if_changed=True).refitted is True


def test_the_fit_knows_the_day_each_day_was_last_sent(
    engine: Engine, lagged: Simulation, tmp_path: Path
) -> None:
    """A backfill, then nightly uploads of the last 14 days: a day older than the window was last
    sent at 13 days old, and the learned lag (still growing on its last day) says to send more.
    An upload of one campaign does not vouch for the others' days, and an older file ingested
    again is what its days show."""
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    end = lagged.history["date"].max().date()
    backfill = end - dt.timedelta(days=30)
    ingest(engine, "shop", io.BytesIO(_csv(lagged.export(backfill), tmp_path, "h.csv")),
           today=TODAY)  # fmt: skip
    for night in range(1, 26):
        as_of = backfill + dt.timedelta(days=night)
        data = _csv(lagged.export(as_of, last_days=14), tmp_path, f"{night}.csv")
        ingest(engine, "shop", io.BytesIO(data), today=TODAY)
    assert "send at least 30 days" in fit(engine, "shop").stored.curve_set.lag.describe()
    latest = lagged.export(end, last_days=30)
    one = latest[latest["campaign"] == latest["campaign"].iloc[0]]
    ingest(engine, "shop", io.BytesIO(_csv(one, tmp_path, "one.csv")), today=TODAY)

    def reported() -> dict[dt.date, dt.date]:
        with transaction(engine) as connection:
            return account_context(connection, find_account(connection, "shop").id).reported

    early = backfill - dt.timedelta(days=20)
    middle = backfill + dt.timedelta(days=5)
    seen = reported()
    assert seen[early] == backfill
    assert seen[middle] == middle + dt.timedelta(days=13)
    assert seen[end] == end
    again = _csv(lagged.export(backfill, last_days=10), tmp_path, "again.csv")
    ingest(engine, "shop", io.BytesIO(again), today=TODAY)
    assert reported()[backfill - dt.timedelta(days=2)] == backfill
