"""`ppcopt serve --reuse-port`: several single-worker processes share one port, and the kernel
spreads new connections among them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bench.suites._procs import tcp_sockets
from cli.serve import proxy_options
from optimizer.settings import Settings
from optimizer.store.engine import make_engine, upgrade
from tests.api.harness import free_port

ROOT = Path(__file__).resolve().parents[3]


def _serve(url: str, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), *extra],
        cwd=ROOT,
        env={**os.environ, "PPCOPT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def _servers(url: str, port: int, count: int) -> Iterator[list[subprocess.Popen[str]]]:
    procs = [_serve(url, port, "--reuse-port") for _ in range(count)]
    try:
        deadline = time.monotonic() + 60
        while not all(tcp_sockets(p.pid, port, listening=True) for p in procs):
            for proc in procs:
                assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "servers did not listen within 60 s"
            time.sleep(0.1)
        yield procs
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=30)[0] for proc in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode in (0, -signal.SIGTERM), output[-3000:]
        assert "Finished server process" in output, output[-3000:]


def test_processes_share_the_port_and_each_takes_connections(store_url: str) -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        port = int(holder.getsockname()[1])
        held = _spread_of_40_clients(store_url, port)
    assert sum(held) >= 40, "other tests' clients may find the port too"
    assert min(held) > 0, f"one process took every connection: {held}"


def _spread_of_40_clients(store_url: str, port: int) -> list[int]:
    """Connections each of two `--reuse-port` processes holds after 40 clients connected (the
    caller holds the port, bound but not listening, so no other test's server is given it)."""
    with _servers(store_url, port, 2) as procs:
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(40)]
        try:
            assert all(c.get("/healthz").status_code == 200 for c in clients)
            held = [tcp_sockets(proc.pid, port) for proc in procs]
        finally:
            for client in clients:
                client.close()
    return held


def test_reuse_port_runs_one_worker_per_process(store_url: str) -> None:
    done = _serve(store_url, free_port(), "--reuse-port", "--workers", "2")
    output = done.communicate(timeout=60)[0]
    assert done.returncode == 2
    assert "one process per worker" in " ".join(output.replace("│", " ").split())


def test_a_port_held_without_reuse_port_is_a_clear_error(store_url: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _serve(store_url, port, "--reuse-port")
        output = done.communicate(timeout=60)[0]
    assert done.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("value", "options"),
    [
        pytest.param("", {"proxy_headers": False}, id="none-by-default"),
        pytest.param(
            " 10.0.0.1, 10.1.0.0/16 ",
            {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.1,10.1.0.0/16"},
            id="listed",
        ),
    ],
)
def test_trusted_proxies_reach_uvicorn(value: str, options: dict[str, object]) -> None:
    settings = Settings(database_url="sqlite://", trusted_proxies=value)
    assert proxy_options(settings.trusted_proxies) == options
