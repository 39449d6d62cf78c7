"""An account's nightly pipeline as a use case: inbox -> ingest -> refit if changed -> publish.

Every run is a `job_runs` row. A scheduled night has the run key `nightly:<account local date>`,
unique per account, so when two schedulers fire the same night the second one's insert fails and
it skips; the account's run lock (`optimizer.store.locks`) keeps any two runs of one account apart,
and a run still marked `running` when the next one holds the lock was killed, so it is marked
failed. Steps retry transient failures (store unavailable, solver failure) with exponential
backoff; domain errors (bad input, no approved cap) fail the run at once. Publication is one
transaction (`recommendations.publish`), so a failed or killed run leaves the previous
recommendation live. While a run lasts its row says which step it is on (a `step: <name>` line in
`notes`) and holds the counts of the steps done, so a page can show it live.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from optimizer.access import Action, Principal, require, require_account
from optimizer.errors import (
    ConflictError,
    InvalidInputError,
    OptimizerError,
    SolverError,
    StoreUnavailableError,
)
from optimizer.settings import Settings, get_settings
from optimizer.store.engine import transaction
from optimizer.store.locks import account_lock, runner_name
from optimizer.store.tables import accounts, job_runs, performance
from optimizer.usecases import experiments, recommendations
from optimizer.usecases.accounts import Account, find_account
from optimizer.usecases.fit import fit
from optimizer.usecases.inbox import ingest_inbox
from optimizer.usecases.optimize import tomorrow

__all__ = [
    "CATCH_UP_AFTER",
    "SCHEDULED_LOCK_WAIT_SECONDS",
    "STEP_NOTE",
    "TRANSIENT_ERRORS",
    "AccountRunSummary",
    "JobRun",
    "RunStatus",
    "Trigger",
    "list_runs",
    "nightly_fire_time",
    "run_nightly",
    "run_summary",
]

Trigger = Literal["schedule", "manual", "catch-up"]
RunStatus = Literal["running", "succeeded", "failed", "skipped"]

TRANSIENT_ERRORS: tuple[type[OptimizerError], ...] = (StoreUnavailableError, SolverError)
CATCH_UP_AFTER = dt.timedelta(minutes=5)
"""A scheduled run starting later than this after its nightly time is labelled a catch-up."""
SCHEDULED_LOCK_WAIT_SECONDS = 600.0
"""How long a scheduled run waits for a manual run of the same account to finish."""
STEP_NOTE = "step: "
"""A running run's `notes` line naming its current step (replaced by its notes at the end)."""

_T = TypeVar("_T")
_log = logging.getLogger("ppcopt.jobs")


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of the pipeline for one account (`id` None: a skipped run, not recorded)."""

    id: int | None
    account: str
    run_key: str
    trigger: str
    scheduled_for: dt.datetime | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: RunStatus
    runner: str
    rows_ingested: int = 0
    files_processed: int = 0
    files_rejected: int = 0
    curves_refit: bool = False
    curve_set_version: int | None = None
    recommendation_id: int | None = None
    error: str | None = None
    notes: str | None = None

    @property
    def current_step(self) -> str | None:
        """The step a running (or interrupted) run was last on, from its `step:` note."""
        for line in (self.notes or "").splitlines():
            if line.startswith(STEP_NOTE):
                return line[len(STEP_NOTE) :]
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings in UTC."""
        shown = asdict(self)
        for name in ("scheduled_for", "started_at", "finished_at"):
            value = shown[name]
            shown[name] = None if value is None else value.isoformat()
        return shown


@dataclass(frozen=True, slots=True)
class AccountRunSummary:
    """An account's recent job health, for /metrics: runs, the newest day its data reach, and
    whether its last finished run planned on stale data (older than `stale_data_days`)."""

    account: str
    failures_last_24h: int
    last_success_at: dt.datetime | None
    last_status: str | None
    running: int
    newest_data_day: dt.date | None = None
    last_run_stale: bool = False


@dataclass
class _Progress:
    step: str = "start"
    counts: dict[str, Any] = field(default_factory=dict)
    engine: Engine | None = None
    run_id: int | None = None

    def enter(self, step: str) -> None:
        """Move to `step` and write it, with the counts so far, to the run's row."""
        self.step = step
        if self.engine is None or self.run_id is None:
            return
        values = {**self.counts, "notes": f"{STEP_NOTE}{step}"}
        try:
            with transaction(self.engine) as connection:
                connection.execute(
                    update(job_runs).where(job_runs.c.id == self.run_id).values(**values)
                )
        except StoreUnavailableError as exc:  # the step itself will retry or fail the run
            _log.warning("could not record run %s entering %s: %s", self.run_id, step, exc)


def nightly_fire_time(timezone: str, nightly_time: str, now: dt.datetime) -> dt.datetime:
    """The latest nightly time (`HH:MM` local) at or before `now`, in UTC: the night of a run."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in nightly_time.split(":"))
    local_now = now.astimezone(zone)
    day = local_now.date()
    for _ in range(3):
        fire = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        if fire <= local_now:
            return fire.astimezone(dt.UTC)
        day -= dt.timedelta(days=1)
    raise AssertionError("unreachable: a nightly time within two days is always found")


def run_nightly(
    engine: Engine,
    principal: Principal,
    account_name: str,
    *,
    now: dt.datetime | None = None,
    trigger: Trigger = "schedule",
    settings: Settings | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_start: Callable[[JobRun], None] | None = None,
) -> JobRun:
    """Run the account's pipeline once and record it; returns the finished (or skipped) run.

    A scheduled or catch-up run is for the night of `now` (the latest nightly time before it) and
    publishes the day after that night; a manual run publishes tomorrow. A failing step makes a
    `failed` run with the step and the reason, never an exception; a manual run while another run
    of the account is in progress is a ConflictError. `on_start` is called with the recorded run
    as soon as it holds the lock, before its first step (a caller that does not wait for the end).
    """
    if trigger not in get_args(Trigger):
        raise InvalidInputError(f"trigger must be schedule, manual or catch-up, not '{trigger}'")
    config = settings if settings is not None else get_settings()
    moment = _aware(now) if now is not None else dt.datetime.now(dt.UTC)
    require(principal, Action.JOBS_RUN)
    with transaction(engine) as connection:
        account = find_account(connection, account_name)
    require_account(principal, account.id, account.name)
    scheduled_for: dt.datetime | None = None
    if trigger == "manual":
        run_key = f"manual:{uuid.uuid4().hex}"
        day = tomorrow(account, moment)
    else:
        scheduled_for = nightly_fire_time(account.timezone, config.nightly_time, moment)
        night = scheduled_for.astimezone(ZoneInfo(account.timezone)).date()
        run_key = f"nightly:{night.isoformat()}"
        day = night + dt.timedelta(days=1)
        if _exists(engine, account.id, run_key):
            return _skipped(account, run_key, trigger, scheduled_for, moment, "already ran")
    wait = 0.0 if trigger == "manual" else SCHEDULED_LOCK_WAIT_SECONDS
    with account_lock(engine, account.id, wait_seconds=wait) as held:
        if not held:
            if trigger == "manual":
                raise ConflictError(
                    f"a run of account '{account.name}' is in progress; try again when it ends"
                )
            return _skipped(account, run_key, trigger, scheduled_for, moment, "run in progress")
        _fail_interrupted(engine, account.id, moment)
        started = _start(engine, account, run_key, trigger, scheduled_for, moment)
        if started is None:
            return _skipped(account, run_key, trigger, scheduled_for, moment, "already ran")
        clock = time.monotonic()
        progress = _Progress(engine=engine, run_id=started.id)
        if on_start is not None:
            on_start(started)
        status: RunStatus = "succeeded"
        error: str | None = None
        try:
            _pipeline(engine, principal, account, day, moment, config, progress, sleep)
        except OptimizerError as exc:
            status, error = "failed", f"{progress.step}: {exc.message}"
        except Exception as exc:  # a bug must fail this run, not the scheduler or other accounts
            _log.exception("nightly run %s of account %s crashed", run_key, account.name)
            crash = f"internal error: {type(exc).__name__}: {exc}"
            status, error = "failed", f"{progress.step}: {crash}"
        finished = moment + dt.timedelta(seconds=time.monotonic() - clock)
        result = _finish(engine, started, status, error, finished, progress, config, sleep)
    _log.log(
        logging.INFO if status == "succeeded" else logging.WARNING,
        "nightly run %s of account %s %s%s",
        run_key,
        account.name,
        status,
        f": {error}" if error else "",
    )
    return result


def list_runs(
    engine: Engine, principal: Principal, *, account_name: str | None = None, limit: int = 50
) -> list[JobRun]:
    """Recorded runs, newest first; a scoped key sees only its accounts' runs."""
    require(principal, Action.JOBS_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInputError("limit must be between 1 and 1000")
    query = (
        select(job_runs, accounts.c.name.label("account_name"))
        .join(accounts, accounts.c.id == job_runs.c.account_id)
        .order_by(job_runs.c.id.desc())
        .limit(limit)
    )
    with transaction(engine) as connection:
        if account_name is not None:
            account = find_account(connection, account_name)
            require_account(principal, account.id, account.name)
            query = query.where(job_runs.c.account_id == account.id)
        elif principal.account_ids is not None:
            query = query.where(job_runs.c.account_id.in_(sorted(principal.account_ids)))
        rows = connection.execute(query).all()
    return [_run(row) for row in rows]


def run_summary(engine: Engine, *, now: dt.datetime | None = None) -> list[AccountRunSummary]:
    """Per account: failed runs started in the last 24 hours, last success, last finished status."""
    since = (_aware(now) if now is not None else dt.datetime.now(dt.UTC)) - dt.timedelta(hours=24)
    runs = job_runs.c
    with transaction(engine) as connection:
        names = dict(connection.execute(select(accounts.c.id, accounts.c.name)).tuples().all())
        failures = _by_account(
            connection,
            select(runs.account_id, func.count())
            .where(runs.status == "failed", runs.started_at >= since)
            .group_by(runs.account_id),
        )
        successes = _by_account(
            connection,
            select(runs.account_id, func.max(runs.finished_at))
            .where(runs.status == "succeeded")
            .group_by(runs.account_id),
        )
        running = _by_account(
            connection,
            select(runs.account_id, func.count())
            .where(runs.status == "running")
            .group_by(runs.account_id),
        )
        last_ids = (
            select(func.max(runs.id))
            .where(runs.status != "running")
            .group_by(runs.account_id)
            .scalar_subquery()
        )
        last = _by_account(
            connection, select(runs.account_id, runs.status).where(runs.id.in_(last_ids))
        )
        last_notes = _by_account(
            connection, select(runs.account_id, runs.notes).where(runs.id.in_(last_ids))
        )
        newest = _by_account(
            connection,
            select(performance.c.account_id, func.max(performance.c.date)).group_by(
                performance.c.account_id
            ),
        )
    return [
        AccountRunSummary(
            account=names[account_id],
            failures_last_24h=int(failures.get(account_id, 0)),
            last_success_at=_utc(successes.get(account_id)),
            last_status=last.get(account_id),
            running=int(running.get(account_id, 0)),
            newest_data_day=newest.get(account_id),
            last_run_stale=any(
                line.startswith("stale_data: ")
                for line in str(last_notes.get(account_id) or "").splitlines()
            ),
        )
        for account_id in sorted(names, key=lambda i: names[i])
    ]


def _pipeline(
    engine: Engine,
    principal: Principal,
    account: Account,
    day: dt.date,
    now: dt.datetime,
    settings: Settings,
    progress: _Progress,
    sleep: Callable[[float], None],
) -> None:
    def attempt(step: Callable[[], _T]) -> _T:
        return _retrying(step, progress.step, settings, sleep)

    progress.enter("inbox")
    local_today = now.astimezone(ZoneInfo(account.timezone)).date()
    inbox = ingest_inbox(engine, account.name, settings.inbox, today=local_today, attempt=attempt)
    progress.counts.update(
        rows_ingested=inbox.rows_ingested,
        files_processed=len(inbox.processed),
        files_rejected=len(inbox.rejected),
    )
    progress.enter("fit")
    outcome = attempt(lambda: fit(engine, account.name, only_if_changed=True))
    progress.counts.update(curves_refit=outcome.refitted, curve_set_version=outcome.stored.version)
    progress.enter("publish")
    published = attempt(lambda: recommendations.publish(engine, principal, account.name, day))
    said = [f"{n['kind']}: {n['text']}" for n in published.notes if n["kind"] != "policy"]
    progress.counts.update(recommendation_id=published.id, notes="\n".join(said) or None)
    progress.enter("experiments")
    attempt(lambda: experiments.read_out_account(engine, account.name))


def _retrying(
    step: Callable[[], _T], name: str, settings: Settings, sleep: Callable[[float], None]
) -> _T:
    """`step()`, retried on transient errors `job_retries` times, waiting backoff * 2**n between."""
    for retry in range(settings.job_retries + 1):
        try:
            return step()
        except TRANSIENT_ERRORS as exc:
            if retry == settings.job_retries:
                raise
            delay = settings.job_backoff_seconds * 2**retry
            _log.warning("%s failed (%s); retrying in %.0f s", name, exc.message, delay)
            sleep(delay)
    raise AssertionError("unreachable: the last retry returns or raises")


def _exists(engine: Engine, account_id: int, run_key: str) -> bool:
    with transaction(engine) as connection:
        found = connection.execute(
            select(job_runs.c.id).where(
                job_runs.c.account_id == account_id, job_runs.c.run_key == run_key
            )
        ).first()
    return found is not None


def _fail_interrupted(engine: Engine, account_id: int, now: dt.datetime) -> None:
    """Runs still `running` while this one holds the lock died mid-way (killed, host lost)."""
    with transaction(engine) as connection:
        stopped = connection.execute(
            update(job_runs)
            .where(job_runs.c.account_id == account_id, job_runs.c.status == "running")
            .values(
                status="failed",
                finished_at=now,
                error="interrupted: the process stopped before the run finished; nothing was "
                "published by it",
            )
        ).rowcount
    if stopped:
        _log.warning("marked %d interrupted run(s) of account %s failed", stopped, account_id)


def _start(
    engine: Engine,
    account: Account,
    run_key: str,
    trigger: str,
    scheduled_for: dt.datetime | None,
    now: dt.datetime,
) -> JobRun | None:
    run = _new_run(account, run_key, trigger, scheduled_for, now)
    values = asdict(run)
    del values["id"], values["account"]
    try:
        with transaction(engine) as connection:
            run_id = connection.execute(
                insert(job_runs).values(account_id=account.id, **values).returning(job_runs.c.id)
            ).scalar_one()
    except IntegrityError:
        return None
    return JobRun(**{**asdict(run), "id": int(run_id)})


def _finish(
    engine: Engine,
    run: JobRun,
    status: RunStatus,
    error: str | None,
    finished: dt.datetime,
    progress: _Progress,
    settings: Settings,
    sleep: Callable[[float], None],
) -> JobRun:
    done = JobRun(
        **{
            **asdict(run),
            **progress.counts,
            "status": status,
            "error": error,
            "finished_at": finished,
        }
    )
    values = asdict(done)
    for name in ("id", "account", "run_key", "trigger", "scheduled_for", "started_at", "runner"):
        del values[name]

    def record() -> None:
        with transaction(engine) as connection:
            connection.execute(update(job_runs).where(job_runs.c.id == run.id).values(**values))

    _retrying(record, "recording the run", settings, sleep)
    return done


def _skipped(
    account: Account,
    run_key: str,
    trigger: str,
    scheduled_for: dt.datetime | None,
    now: dt.datetime,
    reason: str,
) -> JobRun:
    _log.info("nightly run %s of account %s skipped: %s", run_key, account.name, reason)
    started = _new_run(account, run_key, trigger, scheduled_for, now)
    return replace(started, finished_at=now, status="skipped", error=reason)


def _new_run(
    account: Account,
    run_key: str,
    trigger: str,
    scheduled_for: dt.datetime | None,
    now: dt.datetime,
) -> JobRun:
    return JobRun(
        id=None,
        account=account.name,
        run_key=run_key,
        trigger=trigger,
        scheduled_for=scheduled_for,
        started_at=now,
        finished_at=None,
        status="running",
        runner=runner_name(),
    )


def _by_account(connection: Connection, query: Any) -> dict[int, Any]:
    return {int(account_id): value for account_id, value in connection.execute(query).all()}


def _run(row: Any) -> JobRun:
    r = row._mapping
    return JobRun(
        id=int(r["id"]),
        account=r["account_name"],
        run_key=r["run_key"],
        trigger=r["trigger"],
        scheduled_for=_utc(r["scheduled_for"]),
        started_at=_aware(r["started_at"]),
        finished_at=_utc(r["finished_at"]),
        status=r["status"],
        runner=r["runner"],
        rows_ingested=int(r["rows_ingested"]),
        files_processed=int(r["files_processed"]),
        files_rejected=int(r["files_rejected"]),
        curves_refit=bool(r["curves_refit"]),
        curve_set_version=None if r["curve_set_version"] is None else int(r["curve_set_version"]),
        recommendation_id=None if r["recommendation_id"] is None else int(r["recommendation_id"]),
        error=r["error"],
        notes=r["notes"],
    )


def _aware(value: dt.datetime) -> dt.datetime:
    """UTC; a naive datetime (SQLite gives those back) is taken as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _aware(value)
