"""Liveness, readiness and Prometheus metrics (no key needed: they reveal no account data)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import StoreEngine
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
def metrics() -> Response:
    """Prometheus text format: request counts and latencies, nightly job outcomes."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
