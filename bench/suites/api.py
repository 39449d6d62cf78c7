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
import gc
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bench.registry import case
from bench.suites._procs import descendants, tcp_sockets, tree_peak_mib
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


def _start_servers(
    env: dict[str, str], port: int, workers: int, reuse_port: bool, folder: Path
) -> list[subprocess.Popen[bytes]]:
    """`ppcopt serve --workers N`, or N processes of `ppcopt serve --reuse-port`."""
    layouts = [["--reuse-port"]] * workers if reuse_port else [["--workers", str(workers)]]
    procs = []
    for index, layout in enumerate(layouts):
        with (folder / f"server-{port}-{index}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "cli", "serve", "--port", str(port)),
                        *layout,
                        *("--log-level", "warning"),
                    ],
                    cwd=_ROOT,
                    env={**os.environ, **env, "PYTHONPATH": str(_ROOT)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def _wait_ready(procs: list[subprocess.Popen[bytes]], port: int, folder: Path) -> None:
    """Every process listens on the port (with --reuse-port each has its own socket), and the
    server answers."""
    import httpx

    deadline = time.monotonic() + 90
    while True:
        for proc in procs:
            if proc.poll() is not None:
                logs = "".join(p.read_text() for p in folder.glob(f"server-{port}-*.log"))
                raise RuntimeError(f"server exited: {logs[-2000:]}")
        listening = len(procs) == 1 or all(tcp_sockets(p.pid, port, listening=True) for p in procs)
        try:
            answers = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            answers = False
        if listening and answers:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start within 90 s")
        time.sleep(0.2)


async def _load(
    base: str,
    script: str,
    uploader: str,
    body: bytes,
    clients: int,
    uploaders: int,
    seconds: float,
    rate: float | None = None,
) -> _Load:
    import httpx

    latencies: list[float] = []
    upload_latencies: list[float] = []
    errors: Counter[str] = Counter()
    address = urlsplit(base)
    request = (
        f"GET /v1/accounts/{_ACCOUNT}/recommendations/latest HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\nAuthorization: Bearer {script}\r\n\r\n"
    ).encode()
    opened = await asyncio.gather(
        *(asyncio.open_connection(address.hostname, address.port) for _ in range(clients))
    )
    warmup = await asyncio.gather(*(_timed(*stream, request) for stream in opened))
    # An httpx client loads its CA bundle when made, and its first request connects and warms
    # its code paths (together ~0.15 s of this loop for 10 clients, a stall every poller saw):
    # both happen before the clock, as the pollers' connections and first requests do.
    uploading = [
        httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=1), timeout=120)
        for _ in range(uploaders)
    ]
    for answer in await asyncio.gather(*(client.get("/healthz") for client in uploading)):
        if answer.status_code != 200:
            errors[f"GET /healthz {answer.status_code} (warm-up)"] += 1
    # The set-up's imports left ~10^5 objects here; a full collection walking them paused this
    # loop (and so every client) for 0.1-0.25 s at a time. Frozen, as the server freezes its own.
    gc.collect()
    gc.freeze()
    stop = time.monotonic() + seconds

    async def read(index: int) -> None:
        """A bare HTTP/1.1 keep-alive loop: httpx's client costs more CPU per request than the
        server route does, and the generator shares the cores with the server. Every client
        connects and sends one untimed request before the clock starts (the server's first
        requests open its pool connections and render the page); reconnecting after an error or
        a `Connection: close` is timed.

        With a `rate`, client `index` sends on its own fixed schedule (the clients staggered
        evenly) and a request's latency runs from when it was due, not from when it was sent:
        a slow answer delays the next request, and that wait is counted (no coordinated
        omission)."""
        interval = clients / rate if rate else 0.0
        due = time.perf_counter() + index * interval / clients
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = opened[index]
        while time.monotonic() < stop:
            begun = time.perf_counter()
            if interval:
                if due > begun:
                    await asyncio.sleep(due - begun)
                begun, due = due, due + interval
            try:
                if stream is None:
                    stream = await asyncio.open_connection(address.hostname, address.port)
                status, keep_alive = await _exchange(*stream, request)
                failure = None if status == 200 else f"GET {status}"
                if not keep_alive:
                    stream[1].close()
                    stream = None
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                failure, stream = f"GET {type(exc).__name__}", None
            latencies.append(time.perf_counter() - begun)
            if failure is not None:
                errors[failure] += 1
        if stream is not None:
            stream[1].close()

    async def uploads(index: int) -> None:
        try:
            await upload(uploading[index], index)
        finally:
            await uploading[index].aclose()

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
        *(read(i) for i in range(clients)), *(uploads(i) for i in range(uploaders))
    )
    for status, _ in warmup:
        if status != 200:
            errors[f"GET {status} (warm-up)"] += 1
    return _Load(latencies, upload_latencies, errors, [seconds for _, seconds in warmup])


@dataclass(frozen=True)
class _Load:
    gets: list[float]
    posts: list[float]
    errors: Counter[str]
    warmup: list[float]


async def _timed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, float]:
    begun = time.perf_counter()
    status, _ = await _exchange(reader, writer, request)
    return status, time.perf_counter() - begun


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request, read its whole response; its status, and whether the connection stays
    open (not after `Connection: close`)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length, keep_alive = 0, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        field = name.strip().lower()
        if field == b"content-length":
            length = int(value)
        elif field == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1]), keep_alive


@case("api_latency")
def api_latency(
    *,
    clients: int,
    uploaders: int,
    seconds: float,
    workers: int = 2,
    rate: float | None = None,
    reuse_port: bool = False,
    workdir: str,
) -> dict[str, Any]:
    """Closed loop (each client sends its next request as soon as the last is answered) unless
    `rate` is given: then the clients together offer `rate` requests per second. The server is
    `ppcopt serve --workers N`, or with `reuse_port` N processes of `ppcopt serve --reuse-port`."""
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    with scratch_store("postgres", workdir) as (engine, env):
        script, uploader, body = _seed(engine, folder, uploaders)
        port = _free_port()
        procs = _start_servers(env, port, workers, reuse_port, folder)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(procs, port, folder)
            spread: list[int] = []
            sampler = threading.Timer(
                seconds / 2, lambda: spread.extend(_connections_per_worker(procs, port, workers))
            )
            sampler.start()
            load = asyncio.run(
                _load(base, script, uploader, body, clients, uploaders, seconds, rate)
            )
            sampler.join()
            server_mib = max(tree_peak_mib(p.pid, include_root=True) for p in procs)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    get_ms = 1000 * np.array(load.gets)
    post_ms = 1000 * np.array(load.posts) if load.posts else np.zeros(1)
    return {
        "clients": clients,
        "uploaders": uploaders,
        "server_workers": f"{workers} processes, --reuse-port" if reuse_port else workers,
        "offered_per_s": rate if rate else "as fast as answered",
        "duration_s": seconds,
        "get_requests": len(load.gets),
        "get_per_s": len(load.gets) / seconds,
        "upload_requests": len(load.posts),
        "errors": sum(load.errors.values()),
        "error_kinds": ", ".join(f"{kind} x{n}" for kind, n in load.errors.items()) or "none",
        "warmup_max_ms": 1000 * max(load.warmup, default=0.0),
        "get_p50_ms": float(np.percentile(get_ms, 50)),
        "get_p99_ms": float(np.percentile(get_ms, 99)),
        "upload_p50_ms": float(np.percentile(post_ms, 50)),
        "upload_p99_ms": float(np.percentile(post_ms, 99)),
        "server_peak_rss_mib": server_mib,
        "connections_per_worker": "/".join(str(n) for n in spread),
    }


def _connections_per_worker(
    procs: list[subprocess.Popen[bytes]], port: int, workers: int
) -> list[int]:
    """Client connections each server worker holds, most first. Clients keep their connection,
    and which worker accepts it is up to the kernel: an uneven spread shows in the p99."""
    if len(procs) > 1 or workers == 1:
        pids = [p.pid for p in procs]
    else:
        pids = [
            child
            for child in descendants(procs[0].pid)
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
        ]
    return sorted((tcp_sockets(pid, port) for pid in pids), reverse=True)
