"""Uploads are parsed, validated and stored in worker processes, never in the server's own.

Parsing a CSV holds the GIL for seconds; in the server process that stalls every other request,
including the ad scripts' polls (p99 985 ms with 10 uploaders in `make bench`). A small pool of
spawned processes (`PPCOPT_INGEST_PROCESSES`, default 1) runs the whole ingest use case, with its
own store engine, at a lower CPU priority, so a poll that arrives mid-upload is served at once.
The request thread only streams the body to a temporary file and waits.

Domain errors raised in a worker arrive whole (they pickle with their row issues). A worker that
dies (killed, out of memory) is an outage for that upload: 503 with Retry-After, and the pool is
made anew for the next one. `processes=0` keeps the old behaviour (a thread of this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from optimizer.access import Principal
from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import make_engine
from optimizer.usecases.authorized import ingest_as
from optimizer.usecases.ingest import IngestReport

__all__ = ["IngestPool"]

_WORKER_NICENESS = 10


class IngestPool:
    """Runs `ingest_as` for uploads in spawned worker processes (or in a thread when 0)."""

    def __init__(self, processes: int, database_url: str, schema: str | None) -> None:
        self.processes = processes
        self._url = database_url
        self._schema = schema
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    async def ingest(
        self,
        engine: Engine,
        principal: Principal,
        account: str,
        data: IO[bytes],
        **options: Any,
    ) -> IngestReport:
        """Ingest the upload in `data` (closed here) for `account` as `principal`."""
        if self.processes == 0:
            try:
                return await run_in_threadpool(
                    functools.partial(
                        ingest_as, engine, principal, account, cast(BinaryIO, data), **options
                    )
                )
            finally:
                data.close()
        path = await run_in_threadpool(_to_file, data)
        try:
            future = self._submit(principal, account, path, options)
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
        self, principal: Principal, account: str, path: Path, options: dict[str, Any]
    ) -> Future[IngestReport]:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority,
                )
            return self._executor.submit(
                _ingest_file, self._url, self._schema, principal, account, str(path), options
            )

    def _discard(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers once the uploads in progress have finished."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def _to_file(data: IO[bytes]) -> Path:
    """The upload as a file a worker can open (the spool may live in this process's memory)."""
    with data, tempfile.NamedTemporaryFile(prefix="ppcopt-upload-", delete=False) as out:
        shutil.copyfileobj(data, out, 1 << 20)
    return Path(out.name)


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(_WORKER_NICENESS)


@functools.cache
def _engine(url: str, schema: str | None) -> Engine:
    return make_engine(url, schema=schema)


def _ingest_file(
    url: str,
    schema: str | None,
    principal: Principal,
    account: str,
    path: str,
    options: dict[str, Any],
) -> IngestReport:
    with open(path, "rb") as data:
        return ingest_as(_engine(url, schema), principal, account, data, **options)
