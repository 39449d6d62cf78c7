"""The nightly pipeline: inbox files filed away, refit on change, publish under the cap, records."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from optimizer.access import Principal, Role, system_principal
from optimizer.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SolverError,
    StoreUnavailableError,
)
from optimizer.settings import Settings
from optimizer.store.engine import transaction
from optimizer.store.locks import account_lock
from optimizer.store.tables import job_locks, job_runs
from optimizer.usecases import nightly
from optimizer.usecases.inbox import inbox_folder
from optimizer.usecases.nightly import list_runs, nightly_fire_time, run_nightly
from optimizer.usecases.recommendations import latest
from tests.jobs.nightly_setup import (
    HISTORY_DAYS,
    HISTORY_START,
    ready_account,
    settings_for,
    write_history,
)

JOB = system_principal("nightly job")
NIGHT = dt.datetime(2026, 3, 29, 3, 30, tzinfo=dt.UTC)  # 05:30 in Berlin, the day clocks go forward


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return settings_for(engine, tmp_path / "inbox")


def _inbox(settings: Settings, account: str = "shop") -> Path:
    folder = inbox_folder(settings.inbox, account)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_dropped_file_is_ingested_refit_and_moved_to_processed(
    engine: Engine, settings: Settings
) -> None:
    ready_account(engine)
    write_history(_inbox(settings) / "export.csv", HISTORY_START, HISTORY_DAYS + 3)
    run = run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
    assert run.status == "succeeded", run.error
    assert (run.files_processed, run.files_rejected, run.curves_refit) == (1, 0, True)
    assert run.rows_ingested > 0 and run.curve_set_version == 2
    folder = _inbox(settings)
    assert sorted(p.name for p in folder.iterdir()) == ["processed"]
    assert [p.name for p in (folder / "processed").iterdir()] == ["export.csv"]
    published = latest(engine, JOB, "shop")
    assert (published.id, published.date) == (run.recommendation_id, dt.date(2026, 3, 30))


def test_bad_file_is_rejected_with_its_report_and_the_pipeline_continues(
    engine: Engine, settings: Settings
) -> None:
    ready_account(engine)
    folder = _inbox(settings)
    (folder / "broken.csv").write_text(
        "date,campaign,spend,clicks,conversions\n2026-03-20,Brand,-4.00,3,1\n", encoding="utf-8"
    )
    write_history(folder / "good.csv", HISTORY_START, HISTORY_DAYS + 2)
    run = run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
    assert run.status == "succeeded", run.error
    assert (run.files_processed, run.files_rejected) == (1, 1)
    assert sorted(p.name for p in (folder / "rejected").iterdir()) == [
        "broken.csv",
        "broken.csv.report.txt",
    ]
    report = (folder / "rejected" / "broken.csv.report.txt").read_text(encoding="utf-8")
    assert "line 2, column 'spend'" in report and "nothing from this file was stored" in report
    assert [p.name for p in (folder / "processed").iterdir()] == ["good.csv"]
    assert run.recommendation_id == latest(engine, JOB, "shop").id


def test_same_name_dropped_again_does_not_overwrite_the_processed_copy(
    engine: Engine, settings: Settings
) -> None:
    ready_account(engine)
    folder = _inbox(settings)
    for days in (HISTORY_DAYS + 1, HISTORY_DAYS + 2):
        write_history(folder / "daily.csv", HISTORY_START, days)
        run_nightly(engine, JOB, "shop", now=NIGHT, trigger="manual", settings=settings)
    kept = {p.name: p.read_bytes() for p in (folder / "processed").iterdir()}
    assert len(kept) == 2
    first = kept.pop("daily.csv")
    ((renamed, second),) = kept.items()
    assert renamed.startswith("daily.") and renamed.endswith(".csv")
    assert len(second.splitlines()) > len(first.splitlines())


def test_missing_cap_fails_the_run_and_keeps_the_previous_recommendation(
    engine: Engine, settings: Settings
) -> None:
    ready_account(engine, cap=(dt.date(2026, 3, 1), dt.date(2026, 4, 30)))
    first = run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
    assert first.status == "succeeded"
    last_night = dt.datetime(2026, 4, 30, 3, 30, tzinfo=dt.UTC)
    failed = run_nightly(engine, JOB, "shop", now=last_night, settings=settings)
    assert failed.status == "failed" and failed.recommendation_id is None
    assert failed.error is not None
    assert failed.error.startswith("publish: no approved spend cap covers 2026-05-01")
    assert latest(engine, JOB, "shop").id == first.recommendation_id
    recorded = list_runs(engine, JOB, account_name="shop")
    assert [(r.id, r.status, r.error) for r in recorded] == [
        (failed.id, "failed", failed.error),
        (first.id, "succeeded", None),
    ]


def _flaky(errors: list[Exception], real: Callable[..., Any]) -> Callable[..., Any]:
    calls = iter(errors)

    def step(*args: Any, **kwargs: Any) -> Any:
        error = next(calls, None)
        if error is not None:
            raise error
        return real(*args, **kwargs)

    return step


@pytest.mark.parametrize(
    ("errors", "status", "sleeps"),
    [
        pytest.param(
            [StoreUnavailableError("db down"), StoreUnavailableError("db down")],
            "succeeded",
            [3.0, 6.0],
            id="transient-then-recovers",
        ),
        pytest.param([SolverError("solver crashed")] * 3, "failed", [3.0, 6.0], id="exhausted"),
        pytest.param([ConflictError("not retried")], "failed", [], id="domain-error-at-once"),
        pytest.param([InvalidInputError("bad")], "failed", [], id="invalid-input-at-once"),
    ],
)
def test_transient_failures_retry_with_backoff(
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    errors: list[Exception],
    status: str,
    sleeps: list[float],
) -> None:
    ready_account(engine)
    monkeypatch.setattr(nightly, "fit", _flaky(list(errors), nightly.fit))
    waited: list[float] = []
    config = settings.model_copy(update={"job_retries": 2, "job_backoff_seconds": 3.0})
    run = run_nightly(engine, JOB, "shop", now=NIGHT, settings=config, sleep=waited.append)
    assert run.status == status
    assert waited == sleeps
    if status == "failed":
        assert run.error == f"fit: {errors[-1]}"


def test_a_night_runs_once_even_when_fired_twice_at_the_same_time(
    engine: Engine, settings: Settings
) -> None:
    ready_account(engine)
    outcomes: list[str] = []

    def fire() -> None:
        outcomes.append(run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings).status)

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["skipped", "succeeded"]
    again = run_nightly(engine, JOB, "shop", now=NIGHT + dt.timedelta(hours=2), settings=settings)
    assert (again.status, again.id, again.error) == ("skipped", None, "already ran")
    assert [r.run_key for r in list_runs(engine, JOB)] == ["nightly:2026-03-29"]


def test_a_run_in_progress_blocks_another_run_of_the_account(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = ready_account(engine)
    monkeypatch.setattr(nightly, "SCHEDULED_LOCK_WAIT_SECONDS", 0.0)
    with account_lock(engine, account.id) as held:
        assert held
        with pytest.raises(ConflictError, match="in progress"):
            run_nightly(engine, JOB, "shop", now=NIGHT, trigger="manual", settings=settings)
        waited = run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
        assert (waited.status, waited.error) == ("skipped", "run in progress")
    assert list_runs(engine, JOB) == []
    assert run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings).status == "succeeded"


def test_a_running_run_records_its_step_and_the_counts_so_far(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the dashboard shows live: the row says the step the run is on, with the counts of the
    steps done; `on_start` hands over the recorded run before the first step."""
    ready_account(engine)
    write_history(_inbox(settings) / "export.csv", HISTORY_START, HISTORY_DAYS + 3)
    seen: dict[str, Any] = {}
    real_fit, real_publish = nightly.fit, nightly.recommendations.publish

    def watched_fit(*args: Any, **kwargs: Any) -> Any:
        seen["fit"] = list_runs(engine, JOB, account_name="shop")[0]
        return real_fit(*args, **kwargs)

    def watched_publish(*args: Any, **kwargs: Any) -> Any:
        seen["publish"] = list_runs(engine, JOB, account_name="shop")[0]
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(nightly, "fit", watched_fit)
    monkeypatch.setattr(nightly.recommendations, "publish", watched_publish)
    run = run_nightly(
        engine, JOB, "shop", now=NIGHT, settings=settings, on_start=lambda r: seen.update(start=r)
    )
    assert run.status == "succeeded", run.error
    assert (seen["start"].id, seen["start"].status) == (run.id, "running")
    on_fit, on_publish = seen["fit"], seen["publish"]
    assert (on_fit.status, on_fit.current_step) == ("running", "fit")
    assert (on_fit.files_processed, on_fit.rows_ingested) == (1, run.rows_ingested)
    assert on_fit.curve_set_version is None
    assert (on_publish.current_step, on_publish.curve_set_version) == ("publish", 2)
    done = list_runs(engine, JOB, account_name="shop")[0]
    assert done.current_step is None and done.recommendation_id == run.recommendation_id


@pytest.mark.parametrize(
    ("holder", "expires_in", "runs"),
    [
        pytest.param("elsewhere:1:a", dt.timedelta(minutes=-1), True, id="expired-lock"),
        pytest.param("elsewhere:1:a", dt.timedelta(minutes=5), False, id="live-lock"),
    ],
)
def test_killed_runs_are_marked_failed_and_their_locks_expire(
    engine: Engine, settings: Settings, holder: str, expires_in: dt.timedelta, runs: bool
) -> None:
    account = ready_account(engine)
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as connection:
        connection.execute(
            insert(job_runs).values(
                account_id=account.id, run_key="nightly:2026-03-28", trigger="schedule",
                scheduled_for=NIGHT - dt.timedelta(days=1), started_at=NIGHT - dt.timedelta(days=1),
                status="running", runner="elsewhere:1", rows_ingested=0, files_processed=0,
                files_rejected=0, curves_refit=False,
            )
        )  # fmt: skip
        if engine.dialect.name == "sqlite":
            connection.execute(
                insert(job_locks).values(
                    account_id=account.id, holder=holder, acquired_at=now,
                    expires_at=now + expires_in,
                )
            )  # fmt: skip
    if not runs and engine.dialect.name == "sqlite":
        with pytest.raises(ConflictError):
            run_nightly(engine, JOB, "shop", now=NIGHT, trigger="manual", settings=settings)
        return
    run = run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
    assert run.status == "succeeded"
    killed = list_runs(engine, JOB)[-1]
    assert killed.run_key == "nightly:2026-03-28" and killed.status == "failed"
    assert killed.error is not None and killed.error.startswith("interrupted")


def test_who_may_run_and_read_jobs(engine: Engine, settings: Settings) -> None:
    shop = ready_account(engine)
    ready_account(engine, "other")
    run_nightly(engine, JOB, "shop", now=NIGHT, settings=settings)
    run_nightly(engine, JOB, "other", now=NIGHT, settings=settings)
    finance = Principal(role=Role.FINANCE, label="f", key_id=7, account_ids=frozenset({shop.id}))
    with pytest.raises(PermissionDeniedError):
        run_nightly(engine, finance, "shop", now=NIGHT, settings=settings)
    with pytest.raises(PermissionDeniedError):
        list_runs(engine, Principal(role=Role.SCRIPT, label="s", key_id=8))
    assert [r.account for r in list_runs(engine, finance)] == ["shop"]
    with pytest.raises(NotFoundError):
        list_runs(engine, finance, account_name="other")
    scoped_manager = Principal(role=Role.MANAGER, label="m", key_id=9, account_ids=frozenset())
    with pytest.raises(NotFoundError):
        run_nightly(engine, scoped_manager, "shop", now=NIGHT, settings=settings)
    with pytest.raises(InvalidInputError):
        list_runs(engine, JOB, limit=0)
    assert len(list_runs(engine, JOB, limit=1)) == 1


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2026-03-29T03:30:00+00:00", "2026-03-29T03:30:00+00:00", id="at-fire"),
        pytest.param("2026-03-29T03:29:00+00:00", "2026-03-28T04:30:00+00:00", id="before-fire"),
        pytest.param("2026-10-25T23:10:00+00:00", "2026-10-25T04:30:00+00:00", id="after-fall"),
        pytest.param("2026-03-28T23:30:00+00:00", "2026-03-28T04:30:00+00:00", id="local-next-day"),
    ],
)
def test_nightly_fire_time_is_the_latest_local_fire(now: str, expected: str) -> None:
    fire = nightly_fire_time("Europe/Berlin", "05:30", dt.datetime.fromisoformat(now))
    assert fire.isoformat() == expected


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        pytest.param("Shop DE", "Shop DE", id="plain"),
        pytest.param("a/b", "a%2Fb", id="slash"),
        pytest.param("..", "%2E.", id="dots"),
        pytest.param("50%", "50%25", id="percent"),
    ],
)
def test_inbox_folder_is_one_level_below_the_root(tmp_path: Path, name: str, folder: str) -> None:
    assert inbox_folder(tmp_path, name) == tmp_path / folder
