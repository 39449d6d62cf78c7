"""Work that stops when its client goes away: a fit whose caller gave up must not run on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

__all__ = ["POLL_SECONDS", "run_while_connected"]

POLL_SECONDS = 0.2
"""How often the connection is looked at while the work runs."""

_T = TypeVar("_T")


async def run_while_connected(
    request: Request, work: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Run `work(*args, should_stop=..., **kwargs)` in the request thread pool; `should_stop`
    answers True once the client has disconnected, and the work stops at its next unit (it
    raises `CancelledError`, which answers 499 to nobody)."""
    gone = threading.Event()
    watcher = asyncio.create_task(_watch(request, gone))
    try:
        return await run_in_threadpool(work, *args, should_stop=gone.is_set, **kwargs)
    finally:
        watcher.cancel()


async def _watch(request: Request, gone: threading.Event) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(POLL_SECONDS)
    gone.set()
