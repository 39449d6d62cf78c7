"""The scheduler on a fake clock: nightly runs at the account's local time, catch-up, sync."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.executors.debug import DebugExecutor
from sqlalchemy import Engine, select

from jobs.scheduler import NightlyScheduler, build_scheduler, nightly_trigger, start, sync_jobs
from optimizer.access import system_principal
from optimizer.settings import Settings
from optimizer.store.engine import transaction
from optimizer.store.tables import scheduler_jobs
from optimizer.usecases.accounts import create_account
from optimizer.usecases.nightly import JobRun, list_runs
from optimizer.usecases.recommendations import history
from tests.jobs.fake_clock import FakeClock, ManualScheduler
from tests.jobs.nightly_setup import ready_account, settings_for

BERLIN = ZoneInfo("Europe/Berlin")
READER = system_principal("test")

DST_CHANGES = [
    pytest.param(
        dt.date(2026, 3, 28),
        (dt.date(2026, 3, 1), dt.date(2026, 4, 30)),
        ["2026-03-28T04:30:00+00:00", "2026-03-29T03:30:00+00:00", "2026-03-30T03:30:00+00:00"],
        id="spring-forward",
    ),
    pytest.param(
        dt.date(2026, 10, 24),
        (dt.date(2026, 10, 1), dt.date(2026, 11, 30)),
        ["2026-10-24T03:30:00+00:00", "2026-10-25T04:30:00+00:00", "2026-10-26T04:30:00+00:00"],
        id="fall-back",
    ),
]


@pytest.fixture
def scheduled(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeClock, Settings]]:
    clock = FakeClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    clock.install(monkeypatch)
    yield clock, settings_for(engine, tmp_path / "inbox")


def _scheduler(engine: Engine, settings: Settings, clock: FakeClock) -> ManualScheduler:
    scheduler = ManualScheduler()
    build_scheduler(engine, settings, scheduler=scheduler, executor=DebugExecutor(), clock=clock)
    start(scheduler, engine, settings, sync_interval_seconds=None)
    return scheduler


def _runs(engine: Engine) -> list[JobRun]:
    return sorted(list_runs(engine, READER), key=lambda run: run.started_at)


@pytest.mark.parametrize(("first_night", "cap", "expected"), DST_CHANGES)
def test_trigger_keeps_local_time_across_dst(
    first_night: dt.date, cap: object, expected: list[str]
) -> None:
    trigger = nightly_trigger("Europe/Berlin", "05:30")
    moment = dt.datetime.combine(first_night, dt.time(0, 0), tzinfo=BERLIN)
    fires = []
    previous = None
    for _ in range(3):
        fire = trigger.get_next_fire_time(previous, moment)
        fires.append(fire)
        previous, moment = fire, fire + dt.timedelta(seconds=1)
    assert [f.astimezone(dt.UTC).isoformat() for f in fires] == expected
    assert {f.astimezone(BERLIN).time() for f in fires} == {dt.time(5, 30)}


@pytest.mark.parametrize(("first_night", "cap", "expected"), DST_CHANGES)
def test_scheduler_runs_each_night_at_local_time_across_dst(
    engine: Engine,
    scheduled: tuple[FakeClock, Settings],
    first_night: dt.date,
    cap: tuple[dt.date, dt.date],
    expected: list[str],
) -> None:
    clock, settings = scheduled
    ready_account(engine, cap=cap)
    clock.now = dt.datetime.combine(first_night, dt.time(0, 0), tzinfo=BERLIN).astimezone(dt.UTC)
    scheduler = _scheduler(engine, settings, clock)
    for _ in range(3):
        clock.now = scheduler.next_fire()
        scheduler.tick()
    scheduler.shutdown()
    runs = _runs(engine)
    assert [r.started_at.isoformat() for r in runs] == expected
    nights = [first_night + dt.timedelta(days=i) for i in range(3)]
    assert [r.run_key for r in runs] == [f"nightly:{night}" for night in nights]
    assert {(r.status, r.trigger) for r in runs} == {("succeeded", "schedule")}
    published = sorted(rec.date for rec in history(engine, READER, "shop"))
    assert published == [night + dt.timedelta(days=1) for night in nights]


@pytest.mark.parametrize(
    ("restart_local", "caught_up"),
    [
        pytest.param(dt.time(7, 0), True, id="within-grace"),
        pytest.param(dt.time(12, 0), False, id="beyond-grace"),
    ],
)
def test_missed_nights_are_caught_up_once_within_the_grace_time(
    engine: Engine,
    scheduled: tuple[FakeClock, Settings],
    restart_local: dt.time,
    caught_up: bool,
) -> None:
    clock, settings = scheduled
    ready_account(engine)
    clock.now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=BERLIN).astimezone(dt.UTC)
    _scheduler(engine, settings, clock).shutdown()
    clock.now = dt.datetime.combine(dt.date(2026, 3, 13), restart_local, tzinfo=BERLIN)
    clock.now = clock.now.astimezone(dt.UTC)
    restarted = _scheduler(engine, settings, clock)
    restarted.tick()
    runs = _runs(engine)
    if caught_up:
        assert [(r.run_key, r.trigger, r.status) for r in runs] == [
            ("nightly:2026-03-13", "catch-up", "succeeded")
        ]
    else:
        assert runs == []
    assert restarted.next_fire() == dt.datetime(2026, 3, 14, 5, 30, tzinfo=BERLIN)
    restarted.shutdown()


def test_one_failing_account_does_not_stop_the_others(
    engine: Engine, scheduled: tuple[FakeClock, Settings]
) -> None:
    clock, settings = scheduled
    ready_account(engine, "capped")
    ready_account(engine, "uncapped", cap=None)
    clock.now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    scheduler = _scheduler(engine, settings, clock)
    clock.now = scheduler.next_fire()
    scheduler.tick()
    scheduler.shutdown()
    runs = {r.account: r for r in _runs(engine)}
    assert runs["capped"].status == "succeeded"
    assert runs["uncapped"].status == "failed"
    assert runs["uncapped"].error is not None
    assert "no approved spend cap covers 2026-03-12" in runs["uncapped"].error


def test_sync_follows_accounts_and_settings(
    engine: Engine, scheduled: tuple[FakeClock, Settings]
) -> None:
    clock, settings = scheduled
    first = create_account(engine, "first", currency="EUR", timezone="Europe/Berlin")
    clock.now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    scheduler = _scheduler(engine, settings, clock)
    second = create_account(engine, "second", currency="USD", timezone="America/New_York")
    assert sync_jobs(scheduler, engine, settings).added == (f"nightly:{second.id}",)
    assert sync_jobs(scheduler, engine, settings).added == ()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert str(jobs[f"nightly:{second.id}"].trigger.timezone) == "America/New_York"
    assert jobs[f"nightly:{second.id}"].next_run_time == dt.datetime(
        2026, 3, 11, 5, 30, tzinfo=ZoneInfo("America/New_York")
    )
    assert {job.coalesce for job in jobs.values()} == {True}
    assert {job.max_instances for job in jobs.values()} == {1}
    later = settings.model_copy(update={"nightly_time": "06:15"})
    changed = sync_jobs(scheduler, engine, later)
    assert sorted(changed.rescheduled) == sorted([f"nightly:{first.id}", f"nightly:{second.id}"])
    assert scheduler.next_fire() == dt.datetime(2026, 3, 11, 6, 15, tzinfo=BERLIN)
    scheduler.shutdown()


def test_shutdown_leaves_a_due_night_for_the_next_start(engine: Engine, tmp_path: Path) -> None:
    create_account(engine, "shop", currency="EUR", timezone="Europe/Berlin")
    settings = settings_for(engine, tmp_path / "inbox")
    scheduler = NightlyScheduler()
    build_scheduler(engine, settings, scheduler=scheduler)
    scheduler.start(paused=True)
    sync_jobs(scheduler, engine, settings)
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    (job,) = scheduler.get_jobs()
    scheduler.modify_job(job.id, next_run_time=due)
    scheduler.shutdown()
    with transaction(engine) as connection:
        stored = connection.execute(select(scheduler_jobs.c.next_run_time)).scalar_one()
    assert stored == pytest.approx(due.timestamp())
