"""`ppcopt serve`: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer

__all__ = ["serve_command"]


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Migrates the store to the newest schema first."""
    import uvicorn

    from optimizer.cli._common import open_store

    open_store().dispose()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )
