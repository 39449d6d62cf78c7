"""The ledger over a simulated month: the nightly job publishes every day while the day before
arrives with conversion lag; the ledger's scores agree with the simulator's truth, and the
backtest scores past weeks the same way."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from optimizer.access import Role, system_principal
from optimizer.backtest import backtest
from optimizer.errors import InvalidInputError
from optimizer.io import write_canonical_csv
from optimizer.models import fit_account
from optimizer.monthly_report import render_html
from optimizer.schema import NAME_COLUMNS, EntityKey
from optimizer.settings import Settings
from optimizer.simulate import ConversionLag, Scenario, expected_conversions, simulate
from optimizer.solver import AllocationRequest
from optimizer.store.curves import load_curve_set
from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.usecases.accounts import create_account, find_account
from optimizer.usecases.accuracy import account_backtest, calibrate_account, ledger_accuracy
from optimizer.usecases.caps import decide_cap, propose_cap
from optimizer.usecases.ingest import ingest
from optimizer.usecases.monthly import month_report
from optimizer.usecases.nightly import run_nightly
from optimizer.usecases.optimize import plan

MANAGER = system_principal("cli:manager", Role.MANAGER)
HISTORY_DAYS, MONTH = 84, 30
LAG = ConversionLag((0.5, 0.75, 0.9, 0.97, 1.0))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory):
    """A fitted account run through 30 nights: each night the export of the last 7 days (lag
    closing) lands in the inbox and the job ingests, refits and publishes the next day."""
    workdir = tmp_path_factory.mktemp("ledger")
    engine = make_engine(f"sqlite:///{workdir / 'store.db'}")
    upgrade(engine)
    create_account(engine, "shop", currency="EUR", timezone="UTC")
    start = dt.date(2026, 6, 1)
    sim = simulate(campaigns=3, keywords_per_campaign=4, days=HISTORY_DAYS + MONTH + 10, seed=5,
                   start=start, scenario=Scenario(lag=LAG))  # fmt: skip
    first_night = start + dt.timedelta(days=HISTORY_DAYS - 1)
    write_canonical_csv(sim.export(first_night), workdir / "history.csv")
    ingest(engine, "shop", workdir / "history.csv")
    finance = [system_principal(f"cli:finance-{i}", Role.FINANCE) for i in (1, 2)]
    cap = propose_cap(engine, finance[0], "shop", period_start=first_night,
                      period_end=first_night + dt.timedelta(days=MONTH + 5),
                      amount="1000000.00", currency="EUR")  # fmt: skip
    decide_cap(engine, finance[1], cap.id, approve=True)
    settings = Settings(database_url="sqlite://", inbox=workdir / "inbox")
    inbox = workdir / "inbox" / "shop"
    inbox.mkdir(parents=True)
    for night in range(MONTH):
        today = first_night + dt.timedelta(days=night)
        if night:
            write_canonical_csv(sim.export(today, last_days=7), inbox / f"{today}.csv")
        moment = dt.datetime.combine(today, dt.time(23, 0), tzinfo=dt.UTC)
        run = run_nightly(engine, system_principal("scheduler"), "shop", trigger="manual",
                          now=moment, settings=settings)  # fmt: skip
        assert run.status == "succeeded", run.error
    yield engine, sim, first_night
    engine.dispose()


def test_the_ledger_agrees_with_the_simulators_truth(month) -> None:
    engine, sim, first_night = month
    result = ledger_accuracy(engine, MANAGER, "shop")
    assert result.start == first_night + dt.timedelta(days=1)
    assert result.plans == (result.end - result.start).days + 1 >= MONTH - 8
    history = sim.history
    dates = pd.to_datetime(history["date"]).dt.date
    window = history[(dates >= result.start) & (dates <= result.end)]
    keys = [EntityKey(*r) for r in window.loc[:, list(NAME_COLUMNS)].itertuples(index=False)]
    truth = sim.truth.params(keys)
    days = list(pd.to_datetime(window["date"]).dt.date)
    expected = expected_conversions(
        truth,
        window["spend"].to_numpy(),
        weekday=np.array([d.weekday() for d in days]),
        day_index=np.array([sim.truth.day_index(d) for d in days]),
    )
    true_total = float(expected.sum())
    scores = result.accuracy
    assert scores.actual == pytest.approx(float(window["conversions"].sum()), abs=1e-6)
    assert abs(scores.actual / true_total - 1) < 0.10, (scores.actual, true_total)
    assert abs(scores.predicted / true_total - 1) < 0.15, (scores.predicted, true_total)
    assert scores.total_error == pytest.approx(scores.predicted / scores.actual - 1)
    assert 0.5 <= scores.coverage <= 1.0
    assert set(scores.by_campaign["campaign"]) == set(window["campaign"])


def test_young_days_wait_until_their_conversions_arrive(month) -> None:
    engine, _, _ = month
    mature = ledger_accuracy(engine, MANAGER, "shop")
    everything = ledger_accuracy(engine, MANAGER, "shop", mature_days=0)
    assert everything.end > mature.end and everything.plans > mature.plans
    with pytest.raises(InvalidInputError, match="no published day"):
        ledger_accuracy(engine, MANAGER, "shop", until=dt.date(2020, 1, 1))


def test_the_backtest_scores_past_weeks_like_the_ledger(month) -> None:
    engine, _, _ = month
    result = account_backtest(engine, MANAGER, "shop", weeks=4)
    immature = account_backtest(engine, MANAGER, "shop", weeks=4, mature_days=0)
    assert result.weeks[-1].end == immature.weeks[-1].end - dt.timedelta(days=7)
    assert len(result.weeks) == 4
    for week in result.weeks:
        assert (week.end - week.start).days == 6 and week.trained_to < week.start
        assert week.accuracy.days == 7 and math.isfinite(week.accuracy.total_error)
    assert result.overall.days == 28
    assert abs(result.overall.total_error) < 0.25


def test_a_backtest_needs_history_before_its_weeks() -> None:
    sim = simulate(campaigns=1, keywords_per_campaign=2, days=20, seed=1)
    with pytest.raises(InvalidInputError, match="at least 28 days"):
        backtest(sim.history, weeks=2, fit=fit_account)


def test_a_stored_calibration_is_what_the_ledger_scores_with(month) -> None:
    engine, _, _ = month
    uncalibrated = ledger_accuracy(engine, MANAGER, "shop")
    _, fitted = calibrate_account(engine, MANAGER, "shop", weeks=4)
    assert fitted.coverage_after >= 0.8 and fitted.scale >= 0
    with transaction(engine) as connection:
        stored = load_curve_set(connection, find_account(connection, "shop").id)
    assert stored.curve_set.band_scale == pytest.approx(fitted.scale)
    calibrated = ledger_accuracy(engine, MANAGER, "shop")
    assert uncalibrated.band_scale == 1.0
    assert calibrated.band_scale == pytest.approx(fitted.scale)
    what_if = plan(engine, "shop", AllocationRequest(currency="EUR", budget_micros=100_000_000))
    assert what_if.plan.band_scale == pytest.approx(fitted.scale)
    assert calibrated.accuracy.predicted == pytest.approx(uncalibrated.accuracy.predicted)
    assert fitted.scale != pytest.approx(1.0)
    # A narrower band can only hold fewer entities' months, a wider one more; with 13 entities
    # and Poisson noise in every band, none may cross an edge, so the order is not strict.
    if fitted.scale < 1:
        assert calibrated.accuracy.coverage <= uncalibrated.accuracy.coverage
    else:
        assert calibrated.accuracy.coverage >= uncalibrated.accuracy.coverage


def test_the_months_report_gathers_caps_results_notes_and_accuracy(month) -> None:
    engine, sim, first_night = month
    period = f"{first_night + dt.timedelta(days=10):%Y-%m}"
    report = month_report(engine, MANAGER, "shop", period)
    reported = report.daily[report.daily["spend"].notna()]
    dates = pd.to_datetime(sim.history["date"]).dt.date
    truth = sim.history.loc[dates.isin(set(reported["date"])), "spend"].sum()
    assert len(reported) == report.figures.reported_days <= report.figures.days
    assert report.figures.spend == pytest.approx(float(truth), rel=1e-6)
    assert report.caps and report.caps[0].amount_micros == 1_000_000 * 1_000_000
    assert report.daily["planned_spend"].notna().sum() >= 5
    assert len(report.opportunities) == 3
    planned = report.daily.loc[report.daily["planned_spend"].notna(), "date"].tolist()
    assert [m.day for m in report.marginal] == planned
    held = {sum(n for _, n in m.binding) for m in report.marginal}
    assert all(m.shadow_price >= 0 for m in report.marginal)
    assert held == {13}, held  # 12 keywords and one campaign-level row
    english, persian = render_html(report, "en"), render_html(report, "fa")
    assert 'dir="ltr"' in english and "Spend against the cap" in english and "<svg" in english
    assert 'dir="rtl"' in persian and "هزینه در برابر سقف بودجه" in persian
    assert "\u06f1" in persian and "Spend against the cap" not in persian  # a Persian digit
