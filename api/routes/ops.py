"""Liveness, readiness and Prometheus metrics (no key needed: they reveal no spend, budgets or
performance; the job gauges carry account names)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.deps import StoreEngine
from jobs.metrics import register_store_collector
from optimizer.errors import StoreUnavailableError
from optimizer.store.engine import is_current

__all__ = ["router"]

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "store unreachable or not migrated"}})
def readyz(engine: StoreEngine) -> JSONResponse:
    """Readiness: the store answers and its schema is at the newest migration."""
    try:
        current = is_current(engine)
    except StoreUnavailableError as exc:
        return JSONResponse(
            {"status": "unavailable", "detail": exc.message},
            503,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    if not current:
        return JSONResponse(
            {"status": "migrating", "detail": "the store schema is not at the newest migration"},
            503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response)
def metrics(engine: StoreEngine) -> Response:
    """Prometheus text format: request counts and latencies, and nightly job health read from the
    store (failures in the last 24 h, last success, last run failed); the job gauges are left out
    while the store is unreachable rather than failing the scrape."""
    jobs = CollectorRegistry(auto_describe=False)
    register_store_collector(engine, jobs)
    try:
        job_text = generate_latest(jobs)
    except StoreUnavailableError:
        job_text = b""
    return Response(generate_latest() + job_text, media_type=CONTENT_TYPE_LATEST)
