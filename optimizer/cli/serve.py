"""`ppcopt serve`: run the HTTP API with uvicorn (optionally with the nightly scheduler)."""

from __future__ import annotations

import typer

__all__ = ["serve_command"]


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level"),
    with_scheduler: bool = typer.Option(
        False,
        "--with-scheduler",
        help="Also run the nightly scheduler in this process (one, whatever --workers).",
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Migrates the store to the newest schema first."""
    import uvicorn

    from optimizer.cli._common import open_store

    open_store().dispose()
    scheduler = None
    if with_scheduler:
        from jobs.scheduler import start_background

        scheduler = start_background()
        _outlive_uvicorn_signals()
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)


def _outlive_uvicorn_signals() -> None:
    """Uvicorn re-raises SIGTERM / SIGINT to the handler it found once it has stopped; a handler
    that only notes the signal lets the scheduler finish its runs and the process exit 0."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
