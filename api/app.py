"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from optimizer import __version__

__all__ = ["create_app"]


def create_app() -> FastAPI:
    app = FastAPI(title="ppc-budget-optimizer", version=__version__)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
