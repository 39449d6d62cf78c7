"""API latency under load against a real `ppcopt serve` process on PostgreSQL.

Set-up (not timed): an account with fitted curves, an approved cap and a published recommendation,
a script key that reads it, and one account per uploader. Then, for `seconds`, `clients` asyncio
clients loop on GET /v1/accounts/{account}/recommendations/latest while `uploaders` clients loop on
POST /v1/accounts/{account}/performance (a CSV of 7 entities x 60 days). The load generator runs on
the same machine as the server, so both share its cores; latencies include the generator's own
scheduling delay. Each client has its own keep-alive connection, as separate scripts would: with
one shared pool, a connection left idle past uvicorn's keep-alive timeout (5 s) races the server
closing it (httpx then raises RemoteProtocolError on the reused connection).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import numpy as np

from bench.registry import case
from bench.suites._procs import tree_peak_mib
from bench.suites._store import scratch_store

__all__ = ["api_latency"]

_ROOT = Path(__file__).resolve().parents[2]
_ACCOUNT = "acme"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(engine: Any, folder: Path, uploaders: int) -> tuple[str, str, bytes]:
    from optimizer.access import Principal, Role, system_principal
    from optimizer.io import write_canonical_csv
    from optimizer.simulate import simulate
    from optimizer.usecases.accounts import create_account
    from optimizer.usecases.caps import decide_cap, propose_cap
    from optimizer.usecases.fit import fit
    from optimizer.usecases.ingest import ingest
    from optimizer.usecases.keys import create_key
    from optimizer.usecases.recommendations import publish

    end = dt.date.today() - dt.timedelta(days=1)
    sim = simulate(
        campaigns=4, keywords_per_campaign=5, days=60, seed=5, start=end - dt.timedelta(days=59)
    )
    path = folder / "api-history.csv"
    write_canonical_csv(sim.history, path)
    create_account(engine, _ACCOUNT, currency="EUR", timezone="Europe/Berlin")
    ingest(engine, _ACCOUNT, path)
    fit(engine, _ACCOUNT)
    day = end + dt.timedelta(days=1)
    manager = Principal(role=Role.MANAGER, label="bench manager")
    cap = propose_cap(
        engine,
        manager,
        _ACCOUNT,
        period_start=day,
        period_end=day + dt.timedelta(days=29),
        amount="90000.00",
        currency="EUR",
    )
    decide_cap(engine, Principal(role=Role.FINANCE, label="bench finance"), cap.id, approve=True)
    publish(engine, manager, _ACCOUNT, day)
    for index in range(uploaders):
        create_account(engine, f"up{index}", currency="EUR", timezone="Europe/Berlin")
    admin = system_principal("bench admin")
    _, script = create_key(
        engine, admin, role=Role.SCRIPT, label="script", account_names=[_ACCOUNT]
    )
    _, uploader = create_key(engine, admin, role=Role.ADMIN, label="uploader", all_accounts=True)
    upload = simulate(
        campaigns=2, keywords_per_campaign=3, days=60, seed=6, start=end - dt.timedelta(days=59)
    )
    upload_path = folder / "api-upload.csv"
    write_canonical_csv(upload.history, upload_path)
    return script, uploader, upload_path.read_bytes()


def _start_server(
    env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "optimizer.cli", "serve", "--port", str(port)),
                *("--workers", str(workers), "--log-level", "warning"),
            ],
            cwd=_ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(_ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start within 90 s")
        time.sleep(0.2)


async def _load(
    base: str, script: str, uploader: str, body: bytes, clients: int, uploaders: int, seconds: float
) -> tuple[list[float], list[float], Counter[str]]:
    import httpx

    latencies: list[float] = []
    upload_latencies: list[float] = []
    errors: Counter[str] = Counter()
    stop = time.monotonic() + seconds

    def connect() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1), timeout=120)

    async def reader() -> None:
        await read(urlsplit(base))

    async def read(address: SplitResult) -> None:
        """A bare HTTP/1.1 keep-alive loop: httpx's client costs more CPU per request than the
        server route does, and the generator shares the cores with the server."""
        request = (
            f"GET /v1/accounts/{_ACCOUNT}/recommendations/latest HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\nAuthorization: Bearer {script}\r\n\r\n"
        ).encode()
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < stop:
            begun = time.perf_counter()
            try:
                if stream is None:
                    stream = await asyncio.open_connection(address.hostname, address.port)
                status = await _exchange(*stream, request)
                failure = None if status == 200 else f"GET {status}"
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                failure, stream = f"GET {type(exc).__name__}", None
            latencies.append(time.perf_counter() - begun)
            if failure is not None:
                errors[failure] += 1
        if stream is not None:
            stream[1].close()

    async def uploads(index: int) -> None:
        async with connect() as client:
            await upload(client, index)

    async def upload(client: httpx.AsyncClient, index: int) -> None:
        path = f"/v1/accounts/up{index}/performance"
        headers = {"Authorization": f"Bearer {uploader}", "Content-Type": "text/csv"}
        while time.monotonic() < stop:
            begun = time.perf_counter()
            try:
                response = await client.post(path, content=body, headers=headers)
                failure = None if response.status_code == 200 else f"POST {response.status_code}"
            except httpx.HTTPError as exc:
                failure = f"POST {type(exc).__name__}"
            upload_latencies.append(time.perf_counter() - begun)
            if failure is not None:
                errors[failure] += 1

    await asyncio.gather(
        *(reader() for _ in range(clients)), *(uploads(i) for i in range(uploaders))
    )
    return latencies, upload_latencies, errors


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request, read its whole response, return the status."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


@case("api_latency")
def api_latency(
    *, clients: int, uploaders: int, seconds: float, workers: int = 2, workdir: str
) -> dict[str, Any]:
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    with scratch_store("postgres", workdir) as (engine, env):
        script, uploader, body = _seed(engine, folder, uploaders)
        port = _free_port()
        log = folder / f"server-{port}.log"
        proc = _start_server(env, port, workers, log)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(proc, base, log)
            gets, posts, errors = asyncio.run(
                _load(base, script, uploader, body, clients, uploaders, seconds)
            )
            server_mib = tree_peak_mib(proc.pid, include_root=True)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    get_ms = 1000 * np.array(gets)
    post_ms = 1000 * np.array(posts) if posts else np.zeros(1)
    return {
        "clients": clients,
        "uploaders": uploaders,
        "server_workers": workers,
        "duration_s": seconds,
        "get_requests": len(gets),
        "get_per_s": len(gets) / seconds,
        "upload_requests": len(posts),
        "errors": sum(errors.values()),
        "error_kinds": ", ".join(f"{kind} x{count}" for kind, count in errors.items()) or "none",
        "get_p50_ms": float(np.percentile(get_ms, 50)),
        "get_p99_ms": float(np.percentile(get_ms, 99)),
        "upload_p50_ms": float(np.percentile(post_ms, 50)),
        "upload_p99_ms": float(np.percentile(post_ms, 99)),
        "server_peak_rss_mib": server_mib,
    }
