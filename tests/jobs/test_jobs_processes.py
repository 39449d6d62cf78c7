"""Real processes: a run killed with SIGKILL mid-publish, and two schedulers on one store."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from jobs.scheduler import build_scheduler, sync_jobs
from optimizer.access import system_principal
from optimizer.usecases.nightly import list_runs, nightly_fire_time, run_nightly
from optimizer.usecases.recommendations import history, latest
from tests.jobs.fake_clock import ManualScheduler
from tests.jobs.nightly_setup import ready_account, schema_of, settings_for

ROOT = Path(__file__).resolve().parents[2]
JOB = system_principal("nightly job")
NIGHT = dt.datetime(2026, 3, 29, 3, 30, tzinfo=dt.UTC)
_WAIT_SECONDS = 60


def _child(module: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_run_killed_mid_publish_leaves_the_previous_plan_and_the_next_run_completes(
    engine: Engine, tmp_path: Path
) -> None:
    ready_account(engine)
    settings = settings_for(engine, tmp_path / "inbox")
    first = run_nightly(engine, JOB, "shop", now=NIGHT, trigger="manual", settings=settings)
    assert first.status == "succeeded"
    marker = tmp_path / "inside-publish"
    schema = schema_of(engine) or "-"
    child = _child(
        "tests.jobs.nightly_child",
        _url(engine), schema, "shop", NIGHT.isoformat(), str(settings.inbox), str(marker),
    )  # fmt: skip
    deadline = time.monotonic() + _WAIT_SECONDS
    while not marker.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never reached the publish step"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL

    assert latest(engine, JOB, "shop").id == first.recommendation_id
    assert [rec.id for rec in history(engine, JOB, "shop")] == [first.recommendation_id]
    killed = list_runs(engine, JOB)[0]
    assert killed.status == "running" and killed.id != first.id

    after = run_nightly(engine, JOB, "shop", now=NIGHT, trigger="manual", settings=settings)
    assert after.status == "succeeded", after.error
    assert latest(engine, JOB, "shop").id == after.recommendation_id != first.recommendation_id
    marked = {run.id: run for run in list_runs(engine, JOB)}[killed.id]
    assert marked.status == "failed"
    assert marked.error is not None and marked.error.startswith("interrupted")


def test_two_schedulers_on_one_store_run_each_account_once_per_night(
    engine: Engine, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    names = ("north", "south")
    for name in names:
        ready_account(
            engine,
            name,
            history_start=today - dt.timedelta(days=70),
            cap=(today - dt.timedelta(days=3), today + dt.timedelta(days=30)),
        )
    settings = settings_for(engine, tmp_path / "inbox")
    setup = ManualScheduler()  # no thread, so nothing runs or reschedules the jobs on shutdown
    build_scheduler(engine, settings, scheduler=setup)
    setup.start(paused=True)
    sync_jobs(setup, engine, settings)
    for job in setup.get_jobs(jobstore="default"):
        setup.modify_job(job.id, jobstore="default", next_run_time=now - dt.timedelta(minutes=1))
    setup.shutdown()

    go = tmp_path / "go"
    args = (_url(engine), schema_of(engine) or "-", str(settings.inbox), str(go))
    children = [_child("tests.jobs.scheduler_child", *args) for _ in range(2)]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.communicate()
    go.touch()
    made = []
    for child in children:
        out, err = child.communicate(timeout=_WAIT_SECONDS + 30)
        assert child.returncode == 0, err
        made.append(json.loads(out.strip().splitlines()[-1]))

    print(made)
    night = nightly_fire_time("Europe/Berlin", settings.nightly_time, now)
    key = f"nightly:{night.astimezone(ZoneInfo('Europe/Berlin')).date()}"
    runs = list_runs(engine, JOB)
    assert sorted((r.account, r.run_key, r.status) for r in runs) == [
        (name, key, "succeeded") for name in names
    ]
    succeeded = sorted(m["account"] for ms in made for m in ms if m["status"] == "succeeded")
    assert succeeded == list(names)
    assert {m["status"] for ms in made for m in ms} <= {"succeeded", "skipped"}
