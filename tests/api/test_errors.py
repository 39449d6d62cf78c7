"""The error table's edges: a server error closes the connection cleanly, and a client that walks
away mid-upload is a 499 in the log and in /metrics, not a 500."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from optimizer.settings import Settings
from tests.api.harness import Server


def test_a_server_error_says_connection_close() -> None:
    app = create_app(Settings(database_url="sqlite://"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.headers["connection"] == "close"
    assert answer.json()["error"] == "internal_error"


def _upload_counts(server: Server) -> dict[str, float]:
    text = _get(server, "/metrics")
    found = {}
    pattern = (
        r'ppcopt_http_requests_total\{method="POST",'
        r'route="/v1/accounts/\{account\}/performance",status="(\d+)"\} (\S+)'
    )
    for status, value in re.findall(pattern, text):
        found[status] = float(value)
    return found


def _get(server: Server, path: str) -> str:
    with server.client() as client:
        return client.get(path).text


def test_an_abandoned_upload_is_a_499_not_a_500(server: Server) -> None:
    before = _upload_counts(server)
    host, port = server.base_url.removeprefix("http://").split(":")
    head = (
        "POST /v1/accounts/acme/performance HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {server.keys['manager']}\r\n"
        "Content-Type: text/csv\r\n"
        "Content-Length: 1000000\r\n\r\n"
        "date,campaign,spend,clicks,impressions,conversions,conversion_value\n"
    )
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head.encode())
        time.sleep(0.5)
    deadline = time.monotonic() + 10
    after = _upload_counts(server)
    while after.get("499", 0) <= before.get("499", 0) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = _upload_counts(server)
    assert after.get("499", 0) == before.get("499", 0) + 1
    assert after.get("500", 0) == before.get("500", 0)
    log = Path(server.env["PPCOPT_INBOX"]).parent / f"server-{port}.log"
    text = log.read_text(errors="replace")
    assert "499 client closed the connection during POST /v1/accounts/acme/performance" in text
    assert "ClientDisconnect" not in text
