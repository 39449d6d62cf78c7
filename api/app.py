"""The FastAPI application factory: settings, store, routers, the error table, metrics."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import ui
from api.deps import AuthLimiter
from api.docs import install_docs
from api.errors import install_error_handlers
from api.ingest_pool import IngestPool
from api.metrics import MetricsMiddleware
from api.routes import (
    accounts,
    accuracy,
    audit,
    caps,
    curves,
    events,
    experiments,
    jobs,
    keys,
    ops,
    performance,
    plans,
    policy,
    recommendations,
    structure,
)
from api.ui import oidc as ui_oidc
from optimizer import __version__
from optimizer.settings import Settings, get_settings
from optimizer.store.engine import make_async_reader, make_engine

__all__ = ["create_app", "create_served_app"]

_DESCRIPTION = """Split a capped pay-per-click budget across campaigns and keywords.

Authenticate with `Authorization: Bearer KEY` (or `X-API-Key: KEY`). Roles: **admin** (accounts,
keys), **manager** (upload, fit, what-if, propose caps, publish), **finance** (propose and
approve caps, what-if, audit), **script** (read published recommendations). Money is sent and
returned as decimal strings.
"""


def limit_request_threads(threads: int) -> None:
    """At most `threads` synchronous routes and dependencies run at once in this event loop.

    anyio's default of 40 threads outnumbers the connection pool: under load the extra threads
    wait for connections, and the pool opens and closes overflow connections to PostgreSQL on
    every burst (7% of server time and the p99 tail in a profile of `recommendations/latest`).
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def create_served_app() -> FastAPI:
    """The app `ppcopt serve` runs: its upload workers start before it answers."""
    return create_app(start_upload_workers=True)


def create_app(settings: Settings | None = None, *, start_upload_workers: bool = False) -> FastAPI:
    """An app over the configured store; the engine is made once and disposed on shutdown.

    `start_upload_workers`: spawn the ingest workers at start-up rather than at the first upload
    (a test client that never uploads does not pay for a process)."""
    config = settings if settings is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_request_threads(config.api_threads)
        reader = make_async_reader(config.database_url, schema=config.database_schema)
        if reader is not None:
            await reader.open()
            app.state.poll_reader = reader
        if start_upload_workers:
            await app.state.ingest_pool.start()
        # A full collection walks the ~260k objects the imports made (85-95 ms here), a pause
        # that lands in some request; frozen, they are skipped (they live as long as the app).
        gc.freeze()
        yield
        app.state.ingest_pool.close()
        if reader is not None:
            await reader.close()
        app.state.engine.dispose()

    app = FastAPI(
        title="ppc-budget-optimizer",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = config
    app.state.engine = make_engine(config.database_url, schema=config.database_schema)
    app.state.auth_limiter = AuthLimiter(config.auth_failures_per_minute)
    app.state.rendered_recommendations = recommendations.rendered_cache()
    app.state.poll_reader = None
    app.state.ingest_pool = IngestPool(
        config.ingest_processes, config.database_url, config.database_schema
    )
    install_error_handlers(app)
    for module in (
        ops,
        accounts,
        performance,
        curves,
        plans,
        caps,
        events,
        recommendations,
        policy,
        structure,
        accuracy,
        experiments,
        audit,
        keys,
        jobs,
    ):
        app.include_router(module.router)
    app.include_router(ui.router)
    app.include_router(ui_oidc.router)
    install_docs(app)
    app.add_middleware(MetricsMiddleware)
    return app
