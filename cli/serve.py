"""`ppcopt serve`: run the HTTP API with uvicorn (optionally with the nightly scheduler)."""

from __future__ import annotations

import socket
from typing import Any

import typer

from optimizer.errors import InvalidInputError
from optimizer.settings import get_settings

__all__ = ["proxy_options", "serve_command"]

_APP = "api.app:create_served_app"
"""The factory uvicorn calls in each worker: the app with its upload workers started."""


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
    reuse_port: bool = typer.Option(
        False,
        "--reuse-port",
        help="Share the port with other `ppcopt serve --reuse-port` processes (Linux "
        "SO_REUSEPORT): the kernel spreads new connections evenly among them. One worker each.",
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Migrates the store to the newest schema first."""
    import uvicorn

    from cli._common import open_store

    if reuse_port and workers != 1:
        raise typer.BadParameter(
            "--reuse-port runs one worker; start one process per worker instead",
            param_hint="--workers",
        )
    shared = _shared_port(host, port) if reuse_port else None
    open_store().dispose()
    scheduler = None
    if with_scheduler:
        from jobs.scheduler import start_background

        scheduler = start_background()
        _outlive_uvicorn_signals()
    options: dict[str, Any] = {"factory": True, "log_level": log_level, "access_log": False}
    options.update(proxy_options(get_settings().trusted_proxies))
    try:
        if shared is not None:
            uvicorn.Server(uvicorn.Config(_APP, **options)).run(sockets=[shared])
        else:
            uvicorn.run(_APP, host=host, port=port, workers=workers, **options)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)


def proxy_options(trusted_proxies: str) -> dict[str, Any]:
    """Uvicorn's proxy options: forwarded headers only from the listed proxies, none by default.

    Uvicorn otherwise believes X-Forwarded-For from 127.0.0.1 (or FORWARDED_ALLOW_IPS), so any
    local process could pick the address the failed-authentication limit counts against.
    """
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted_proxies}


def _shared_port(host: str, port: int) -> socket.socket:
    """A socket bound to a port that other processes may also listen on (uvicorn listens).

    Uvicorn's `--workers` share one socket, and the first worker to wake accepts most of a burst
    of new connections (44 of 50 in the API benchmark), which then stay with it; with one socket
    per process the kernel picks by a hash of each connection's addresses instead.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInputError(
            f"cannot serve on {host}:{port} ({exc.strerror}); choose another --host or --port, "
            "or stop the process that holds it (only `--reuse-port` processes can share it)"
        ) from exc
    return sock


def _outlive_uvicorn_signals() -> None:
    """Uvicorn re-raises SIGTERM / SIGINT to the handler it found once it has stopped; a handler
    that only notes the signal lets the scheduler finish its runs and the process exit 0."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
