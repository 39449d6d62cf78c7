"""Uploads are parsed, validated and stored in worker processes, never in the server's own.

Parsing a CSV holds the GIL for seconds; in the server process that stalls every other request,
including the ad scripts' polls (p99 985 ms with 10 uploaders in `make bench`). A small pool of
spawned processes (`PPCOPT_INGEST_PROCESSES`, default 1) runs the whole ingest use case (the
reader, validation, JSON rows, a manager report's split, the store write), with its own store
engine, at the lowest CPU priority (`SCHED_IDLE` where Linux has it, else nice 19), so a poll that
arrives mid-upload is served at once and uploads use the cores the polls leave. The request only
streams the body to a temporary file and waits for the report.

Domain errors raised in a worker arrive whole (they pickle with their row issues). A worker that
dies (killed, out of memory) is an outage for that upload: 503 with Retry-After, nothing of it
stored (the ingest is one transaction), and the pool is made anew for the next one.
`processes=0` keeps the old behaviour (a thread of this process).

`ppcopt serve` starts the workers before it answers (`start`): a worker's imports (pandas, the
readers, the store) take seconds of a core at normal priority, and made at the first upload they
queued every poll behind them (p99 0.85 s with 10 uploaders in `make bench`, all of it in the
first 9 s). A worker imports this module, and through it the ingest use case, to find its
initializer by name, so the imports are done at normal priority before the initializer drops it to
idle priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar, cast

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from optimizer.access import Principal
from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import make_engine
from optimizer.usecases.authorized import ingest_accounts_as, ingest_as
from optimizer.usecases.ingest import IngestReport

__all__ = ["IngestPool", "Transform"]

_T = TypeVar("_T")
Transform = Callable[[IO[bytes]], IO[bytes]]
"""Turns the uploaded bytes into what the reader reads (JSON rows into CSV); runs in the worker,
so it must be a module-level function (it is pickled by name)."""

_NICENESS = 19
_LOG = logging.getLogger(__name__)


class IngestPool:
    """Runs the ingest use cases for uploads in spawned worker processes (or a thread when 0)."""

    def __init__(self, processes: int, database_url: str, schema: str | None) -> None:
        self.processes = processes
        self._url = database_url
        self._schema = schema
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight: set[Future[Any]] = set()
        self._lock = threading.Lock()

    async def start(self) -> None:
        """Spawn the workers now and wait until one has answered per process (a no-op with 0
        processes): a worker answers only once its imports are done, so with the default single
        process nothing is left to import at the first upload. A worker that cannot start is
        logged, not raised: the server still answers, and the first upload tries again."""
        if self.processes == 0:
            return
        try:
            await run_in_threadpool(self._start)
        except Exception:
            _LOG.exception("the upload workers did not start; the first upload starts them")
            self._discard()

    def _start(self) -> None:
        futures = [self._executor_now().submit(os.getpid) for _ in range(self.processes)]
        for future in futures:
            future.result()

    async def ingest(
        self,
        engine: Engine,
        principal: Principal,
        account: str,
        data: IO[bytes],
        transform: Transform | None = None,
        **options: Any,
    ) -> IngestReport:
        """Ingest the upload in `data` (closed here) for `account` as `principal`."""
        return await self._run(ingest_as, engine, (principal, account), data, transform, options)

    async def ingest_accounts(
        self,
        engine: Engine,
        principal: Principal,
        data: IO[bytes],
        transform: Transform | None = None,
        **options: Any,
    ) -> list[IngestReport]:
        """Ingest a manager report in `data` (closed here), split into the accounts it names."""
        return await self._run(ingest_accounts_as, engine, (principal,), data, transform, options)

    async def _run(
        self,
        call: Callable[..., _T],
        engine: Engine,
        args: tuple[Any, ...],
        data: IO[bytes],
        transform: Transform | None,
        options: dict[str, Any],
    ) -> _T:
        if self.processes == 0:
            try:
                return await run_in_threadpool(
                    _call_on, call, engine, args, data, transform, options
                )
            finally:
                data.close()
        path = await run_in_threadpool(_to_file, data)
        try:
            future = await run_in_threadpool(self._submit, call, args, path, transform, options)
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool as exc:
                self._discard()
                raise StoreUnavailableError(
                    "the upload worker stopped before it finished (the file was not stored); "
                    "send it again"
                ) from exc
        finally:
            path.unlink(missing_ok=True)

    def _submit(
        self,
        call: Callable[..., _T],
        args: tuple[Any, ...],
        path: Path,
        transform: Transform | None,
        options: dict[str, Any],
    ) -> Future[_T]:
        """Hand the upload to a worker. A pool already broken (a worker died between uploads) is
        replaced first: nothing of this upload was in flight, so it goes to a new worker instead
        of failing."""
        task = functools.partial(
            _in_worker, self._url, self._schema, call, args, str(path), transform, options
        )
        try:
            future = self._executor_now().submit(task)
        except BrokenProcessPool:
            self._discard()
            future = self._executor_now().submit(task)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _executor_now(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lowest_priority,
                )
            return self._executor

    def _discard(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers once the uploads in progress have finished.

        Idle workers are then killed, not asked to exit: at idle priority on a busy machine a
        worker gets almost no CPU, and one left to run its own exit held the server's shutdown
        for minutes (seen with both cores loaded). An idle worker holds no transaction."""
        with self._lock:
            executor, self._executor = self._executor, None
            in_flight = list(self._in_flight)
        if executor is None:
            return
        wait(in_flight)
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        executor.shutdown(wait=True, cancel_futures=True)


def _to_file(data: IO[bytes]) -> Path:
    """The upload as a file a worker can open (the spool may live in this process's memory)."""
    with data, tempfile.NamedTemporaryFile(prefix="ppcopt-upload-", delete=False) as out:
        shutil.copyfileobj(data, out, 1 << 20)
    return Path(out.name)


def _lowest_priority() -> None:
    """CPU only when nothing else of this machine's session wants it: a worker at nice 10 still
    took a tenth of a core from the server under load; `SCHED_IDLE` weighs 3 against nice 0's
    1024 (nice 19: 15). An upload still finishes, on the time the polls leave."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(_NICENESS)


def _call_on(
    call: Callable[..., _T],
    engine: Engine,
    args: tuple[Any, ...],
    data: IO[bytes],
    transform: Transform | None,
    options: dict[str, Any],
) -> _T:
    source = transform(data) if transform is not None else data
    return call(engine, *args, cast(BinaryIO, source), **options)


@functools.cache
def _engine(url: str, schema: str | None) -> Engine:
    return make_engine(url, schema=schema)


def _in_worker(
    url: str,
    schema: str | None,
    call: Callable[..., _T],
    args: tuple[Any, ...],
    path: str,
    transform: Transform | None,
    options: dict[str, Any],
) -> _T:
    with open(path, "rb") as data:
        return _call_on(call, _engine(url, schema), args, data, transform, options)
