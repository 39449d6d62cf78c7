"""`ppcopt serve`: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer

__all__ = ["serve_command"]


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
