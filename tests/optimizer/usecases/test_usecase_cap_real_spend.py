"""The cap holds in the account's real spend: days not yet reported count, a tight cap still gets a
plan (soft floors give way, named), a spent cap publishes zeros the ad script turns into pauses,
overlapping caps never let a looser one win, and the team's standing policy reaches the plan."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from jobs.metrics import job_metrics
from optimizer.access import Role, system_principal
from optimizer.io import write_canonical_csv
from optimizer.simulate import simulate
from optimizer.store.engine import make_engine, transaction, upgrade
from optimizer.store.performance import spend_between
from optimizer.usecases.accounts import create_account, find_account
from optimizer.usecases.caps import Cap, decide_cap, propose_cap
from optimizer.usecases.events import add_event, remove_event
from optimizer.usecases.fit import fit
from optimizer.usecases.ingest import ingest
from optimizer.usecases.nightly import run_nightly
from optimizer.usecases.policy import PlanPolicy, get_policy, set_policy
from optimizer.usecases.recommendations import Recommendation, latest, publish

PROPOSER = system_principal("cli:finance-1", Role.FINANCE)
APPROVER = system_principal("cli:finance-2", Role.FINANCE)
MANAGER = system_principal("cli:manager", Role.MANAGER)
HISTORY_END = dt.date(2026, 11, 25)
_names = itertools.count()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    workdir = tmp_path_factory.mktemp("realspend")
    engine = make_engine(f"sqlite:///{workdir / 'store.db'}")
    upgrade(engine)
    yield engine, workdir
    engine.dispose()


def _account(store: tuple[Engine, Path], seed: int = 9) -> tuple[str, float]:
    """A fitted account whose history ends on 25 Nov; returns its name and mean daily spend."""
    engine, workdir = store
    name = f"shop-{next(_names)}"
    create_account(engine, name, currency="EUR", timezone="UTC")
    sim = simulate(campaigns=3, keywords_per_campaign=3, days=45, seed=seed,
                   start=HISTORY_END - dt.timedelta(days=44), currency="EUR")  # fmt: skip
    path = workdir / f"{name}.csv"
    write_canonical_csv(sim.history, path)
    ingest(engine, name, path)
    fit(engine, name)
    daily = sim.history.groupby("date")["spend"].sum()
    return name, float(daily.tail(14).mean())


def _cap(engine: Engine, account: str, start: dt.date, end: dt.date, amount: float,
         replaces: int | None = None) -> Cap:  # fmt: skip
    cap = propose_cap(engine, PROPOSER, account, period_start=start, period_end=end,
                      amount=f"{amount:.2f}", currency="EUR", replaces=replaces)  # fmt: skip
    return decide_cap(engine, APPROVER, cap.id, approve=True)


def _spent(history_to: dt.date, start: dt.date, store: tuple[Engine, Path], account: str) -> float:
    engine, _ = store
    with transaction(engine) as connection:
        account_id = find_account(connection, account).id
        end = history_to + dt.timedelta(days=1)
        return spend_between(connection, account_id, start, end) / 1e6


def _kinds(rec: Recommendation) -> list[str]:
    return [note["kind"] for note in rec.notes]


def test_an_exhausted_cap_publishes_zeros_that_say_why(store) -> None:
    """The issue's case: cap 30,000-like for 1 Nov - 31 Dec, history to 25 Nov, run on 2 Dec.
    The seven unreported days at the account's rate spend what was left, so tomorrow gets 0."""
    engine, _ = store
    account, mean = _account(store)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
    reported = _spent(HISTORY_END, start, store, account)
    cap = _cap(engine, account, start, end, reported + 6.5 * mean)
    run = run_nightly(engine, system_principal("scheduler"), account, trigger="manual",
                      now=dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC))  # fmt: skip
    assert run.status == "succeeded", run.error
    assert run.notes is not None and "stale_data: " in run.notes and "cap_reached: " in run.notes
    health = job_metrics(engine, now=dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC))
    assert health["accounts"][account]["last_run_stale_data"] is True
    assert health["accounts"][account]["data_age_days"] == 7  # 25 Nov -> 2 Dec
    rec = latest(engine, MANAGER, account)
    assert rec.id == run.recommendation_id and rec.date == dt.date(2026, 12, 3)
    assert rec.cap.id == cap.id and rec.total_micros == 0
    rows = rec.table("campaign")
    assert (rows["recommended_spend"].map(Decimal) == 0).all()
    assert (rows["bound"] == "cap_reached").all()
    assert "cap_reached" in _kinds(rec)
    unreported = next(n["text"] for n in rec.notes if "not yet reported" in n["text"])
    assert unreported.startswith("7 day(s) not yet reported (26 Nov - 02 Dec)")
    assert "stale_data" in _kinds(rec)


def test_a_tight_cap_publishes_with_the_relaxed_floors_named(store) -> None:
    engine, _ = store
    account, mean = _account(store)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
    reported = _spent(HISTORY_END, start, store, account)
    cap = _cap(engine, account, start, end, reported + 7 * mean + 2 * mean)
    rec = publish(engine, MANAGER, account, dt.date(2026, 12, 3))
    left = cap.amount_micros - round(reported * 1e6) - 7 * round(mean * 1e6)
    assert 0 < rec.total_micros <= rec.budget_micros
    assert rec.budget_micros <= left / 2 + 7 * 10_000
    relaxed = [n["text"] for n in rec.notes if n["kind"] == "relaxed"]
    assert relaxed and relaxed[0].startswith("trust-region floors of ")
    assert relaxed[0].endswith(" to fit the cap of " + _eur(rec.budget_micros))


def _eur(micros: int) -> str:
    return f"{Decimal(micros) / 1_000_000:,.2f} EUR"


def test_a_published_plan_counts_its_worst_case_until_reported(store) -> None:
    """Data ends on 25 Nov; 26 Nov was planned at B; planning 27 Nov counts 26 Nov at 2 B and
    does not raise spend above current on that estimate."""
    engine, _ = store
    account, _mean = _account(store)
    _cap(engine, account, dt.date(2026, 11, 1), dt.date(2026, 12, 31), 1_000_000)
    first = publish(engine, MANAGER, account, dt.date(2026, 11, 26))
    second = publish(engine, MANAGER, account, dt.date(2026, 11, 27))
    text = next(n["text"] for n in second.notes if "not yet reported" in n["text"])
    assert text.startswith("1 day(s) not yet reported (26 Nov - 26 Nov)")
    assert f"estimated {_eur(first.total_micros)}" in text
    assert f"at {_eur(2 * first.total_micros)}" in text
    shown = second.table("keyword")["current_spend"]
    current = sum(Decimal(v) for v in shown) + Decimal("0.01") * len(shown)
    assert Decimal(second.budget_micros) / 1_000_000 <= current
    assert any("until those days are reported" in n["text"] for n in second.notes)


def test_overlapping_caps_all_apply_and_the_tightest_binds(store) -> None:
    engine, _ = store
    account, mean = _account(store)
    day = dt.date(2026, 11, 26)
    tight = _cap(engine, account, day, day, round(mean / 3, 2))
    loose = _cap(engine, account, dt.date(2026, 11, 1), dt.date(2026, 11, 30), 10 * mean * 30)
    assert tight.id in loose.overlaps
    rec = publish(engine, MANAGER, account, day)
    assert rec.cap.id == tight.id and rec.total_micros <= tight.amount_micros
    assert any("is the tightest and binds" in n["text"] for n in rec.notes)
    raised = _cap(engine, account, day, day, round(mean, 2), replaces=tight.id)
    rec = publish(engine, MANAGER, account, day)
    assert rec.cap.id == raised.id and rec.total_micros > tight.amount_micros


def _campaign_changes(rec: Recommendation) -> pd.DataFrame:
    rows = rec.table("campaign")
    current = rows["current_spend"].map(Decimal)
    recommended = rows["recommended_spend"].map(Decimal)
    return pd.DataFrame({"campaign": rows["campaign"], "current": current, "new": recommended})


def test_the_default_policy_raises_no_campaign_above_30_percent(store) -> None:
    engine, _ = store
    account, mean = _account(store, seed=21)
    _cap(engine, account, dt.date(2026, 11, 26), dt.date(2026, 11, 26), 5 * mean)
    rec = publish(engine, MANAGER, account, dt.date(2026, 11, 26))
    changes = _campaign_changes(rec)
    assert (changes["new"] <= changes["current"] * Decimal("1.3") + Decimal("0.01")).all()
    assert "planned under the default policy" in [n["text"] for n in rec.notes]


def test_the_standing_policy_holds_in_the_published_plan(store) -> None:
    """A max change of 20% and a group cap set by the manager hold in what publish and the
    nightly job publish, without being passed again."""
    engine, _ = store
    account, mean = _account(store, seed=33)
    _cap(engine, account, dt.date(2026, 11, 26), dt.date(2026, 11, 28), 30 * mean)
    before = _campaign_changes(publish(engine, MANAGER, account, dt.date(2026, 11, 26)))
    top = before.sort_values("current").iloc[-1]
    first = str(top["campaign"])
    group_cap = (top["current"] * Decimal("0.9")).quantize(Decimal("0.01"))
    policy = PlanPolicy(max_change=0.2, groups=(f"brand={first}:{group_cap}",))
    stored = set_policy(engine, MANAGER, account, policy)
    assert stored.version == 1 and get_policy(engine, MANAGER, account).policy == policy
    for rec in (
        publish(engine, MANAGER, account, dt.date(2026, 11, 27)),
        _nightly(engine, account, dt.datetime(2026, 11, 27, 23, 0, tzinfo=dt.UTC)),
    ):
        changes = _campaign_changes(rec).set_index("campaign")
        assert (changes["new"] <= changes["current"] * Decimal("1.2") + Decimal("0.01")).all()
        assert (changes["new"] >= changes["current"] * Decimal("0.8") - Decimal("0.01")).all()
        assert changes.loc[first, "new"] <= group_cap
        assert "planned under plan policy v1" in [n["text"] for n in rec.notes]


def _nightly(engine: Engine, account: str, now: dt.datetime) -> Recommendation:
    run = run_nightly(engine, system_principal("scheduler"), account, trigger="manual", now=now)
    assert run.status == "succeeded", run.error
    return latest(engine, MANAGER, account)


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    days=st.integers(4, 12),
    cap_share=st.floats(0.2, 1.5),
    seed=st.integers(0, 1000),
)
def test_simulated_actual_spend_never_exceeds_the_cap(store, days, cap_share, seed) -> None:
    """Every day: publish, the platform spends up to 2x each campaign's budget, and the day is
    reported 1 to 4 days later (sometimes after the next plans). The period's spend stays within
    the cap whatever the draw."""
    engine, workdir = store
    account, mean = _account(store, seed=seed % 7 + 40)
    start = HISTORY_END + dt.timedelta(days=1)
    end = start + dt.timedelta(days=days - 1)
    cap = _cap(engine, account, start, end, cap_share * mean * days)
    rng = np.random.default_rng(seed)
    pending: list[tuple[dt.date, pd.DataFrame]] = []
    actual = 0
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        due = [frame for report_day, frame in pending if report_day <= day]
        pending = [(d, f) for d, f in pending if d > day]
        if due:
            path = workdir / f"{account}-{day}.csv"
            write_canonical_csv(pd.concat(due, ignore_index=True), path)
            ingest(engine, account, path)
        rec = publish(engine, MANAGER, account, day)
        rows = rec.table("keyword")
        budget = rows["recommended_spend"].map(Decimal)
        factor = rng.uniform(0.0, 2.0, len(rows))
        spent = [
            (b * Decimal(str(round(f, 4)))).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            for b, f in zip(budget, factor, strict=True)
        ]
        actual += sum(round(s * 100) for s in spent)
        frame = rows.loc[:, ["campaign", "ad_group", "keyword", "match_type"]].assign(
            date=day, spend=[float(s) for s in spent], clicks=0, impressions=0,
            conversions=0.0, conversion_value=0.0,
        )  # fmt: skip
        pending.append((day + dt.timedelta(days=int(rng.integers(1, 5))), frame))
    assert actual * 10_000 <= cap.amount_micros


def test_a_stated_promotion_moves_the_published_budget_and_says_so(store) -> None:
    """A promotion at 2x over the next five days: tomorrow's paced budget rises, the plan names
    the promotion; the same promotion without a stated lift changes nothing."""
    engine, _ = store
    account, mean = _account(store)
    day = HISTORY_END + dt.timedelta(days=1)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
    reported = _spent(HISTORY_END, start, store, account)
    _cap(engine, account, start, end, reported + 0.7 * mean * ((end - day).days + 1))
    plain = publish(engine, MANAGER, account, day)
    assert not any("promotion" in n["text"] for n in plain.notes)
    unstated = add_event(engine, MANAGER, account, start=day, end=day + dt.timedelta(days=4),
                         kind="promo")  # fmt: skip
    assert publish(engine, MANAGER, account, day).budget_micros == plain.budget_micros
    remove_event(engine, MANAGER, account, unstated.id)
    add_event(engine, MANAGER, account, start=day, end=day + dt.timedelta(days=4), kind="promo",
              lift=2.0)  # fmt: skip
    promoted = publish(engine, MANAGER, account, day)
    assert promoted.budget_micros > plain.budget_micros
    said = [n["text"] for n in promoted.notes if "promotion" in n["text"]]
    assert said == [
        f"promotion {day:%d %b} - {day + dt.timedelta(days=4):%d %b} planned at 2x conversions "
        "per unit of spend: the period plan weighs those days by it"
    ]


def test_the_published_plan_carries_its_forecast_path_to_the_periods_end(store) -> None:
    engine, _ = store
    account, mean = _account(store)
    day = HISTORY_END + dt.timedelta(days=1)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
    reported = _spent(HISTORY_END, start, store, account)
    cap = _cap(engine, account, start, end, reported + 0.9 * mean * ((end - day).days + 1))
    published = publish(engine, MANAGER, account, day)
    days = [d for d, _ in published.forecast]
    assert days == [day + dt.timedelta(days=i) for i in range((end - day).days + 1)]
    left = cap.amount_micros - round(reported * 1e6)
    assert sum(m for _, m in published.forecast) <= left
    assert published.forecast[0][1] >= published.budget_micros
    assert latest(engine, MANAGER, account).forecast == published.forecast
