"""FastAPI dependencies: settings, the store engine and the calling principal."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, HTTPException, Path, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from optimizer.access import Principal
from optimizer.errors import AuthenticationError
from optimizer.settings import Settings
from optimizer.usecases.keys import authenticate

__all__ = [
    "AuthLimiter",
    "CurrentPrincipal",
    "RowId",
    "StoreEngine",
    "checked_with_key",
    "get_engine",
    "get_principal",
]

_T = TypeVar("_T")


async def get_settings_dep(request: Request) -> Settings:
    """Async although it does no I/O: FastAPI runs a sync dependency in its thread pool, a hop
    per request that costs more than the lookup."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """Async for the same reason as `get_settings_dep`."""
    engine: Engine = request.app.state.engine
    return engine


class AuthLimiter:
    """Failed authentications per client address in a sliding minute; over the limit -> 429.

    Per process and in memory: enough to make online key guessing useless (keys carry 256 bits),
    without a shared store.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        with self._lock:
            window = self._window(client)
            if len(window) >= self.per_minute:
                retry = max(1, int(60 - (time.monotonic() - window[0])) + 1)
                raise HTTPException(
                    429,
                    f"too many failed authentications from {client}; wait {retry} s",
                    headers={"Retry-After": str(retry)},
                )

    def failed(self, client: str) -> None:
        with self._lock:
            self._window(client).append(time.monotonic())

    def _window(self, client: str) -> deque[float]:
        window = self._failures.setdefault(client, deque())
        cutoff = time.monotonic() - 60
        while window and window[0] < cutoff:
            window.popleft()
        if len(self._failures) > 10_000:
            self._failures = {k: v for k, v in self._failures.items() if v}
        return window


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key:
        return x_api_key.strip()
    return None


async def get_principal(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """The key's principal; 401 for a missing/unknown/revoked key, 429 after repeated wrong keys.

    Only presented-but-wrong keys count toward the limit (a missing key guesses nothing).
    """
    return await checked_with_key(
        request, authorization, x_api_key, lambda key: run_in_threadpool(authenticate, engine, key)
    )


async def checked_with_key(
    request: Request,
    authorization: str | None,
    x_api_key: str | None,
    check: Callable[[str], Awaitable[_T]],
) -> _T:
    """`await check(key)` under the rules of every key check (those of `get_principal`), for a
    route whose use case checks the key in the same statement as its own read."""
    limiter: AuthLimiter = request.app.state.auth_limiter
    client = _client(request)
    limiter.check(client)
    key = _presented_key(authorization, x_api_key)
    if key is None:
        raise AuthenticationError(
            "no API key was sent; send `Authorization: Bearer KEY` or `X-API-Key: KEY`"
        )
    try:
        return await check(key)
    except AuthenticationError:
        limiter.failed(client)
        raise


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


StoreEngine = Annotated[Engine, Depends(get_engine)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


RowId = Annotated[int, Path(ge=1, le=2**62)]
"""A numeric id in a path: bounded so no oversized integer reaches the database."""
