"""Security headers, GraphiQL's URL pre-fill, and the server's header/body limits and
timeouts, the latter against the real ``eventgraph serve`` (uvicorn with httptools)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import socket
import time

import httpx
import pytest

from app.settings import Settings
from tests.fixtures.app import Api


@pytest.mark.parametrize("path", ["/graphql", "/docs"])
async def test_html_pages_carry_a_csp_that_forbids_framing(api: Api, path: str) -> None:
    response = await api.http.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "'unsafe-inline'" not in script_src
    assert "http" not in csp  # every source is this origin: the pages load nothing else
    for script in re.findall(rb"<script>(.*?)</script>", response.content, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_graphiql_takes_nothing_from_its_url(api: Api) -> None:
    """A link cannot pre-fill GraphiQL's query or headers (a framed or linked page could
    otherwise lead a cookie-authenticated visitor into a mutation)."""
    page = (await api.http.get("/graphql", headers={"Accept": "text/html"})).text
    assert "<script>" not in page  # no inline script: everything is under the CSP
    script = (await api.http.get("/graphql/assets/eventgraph-graphiql.js")).text
    assert "React.createElement(GraphiQL" in script
    for reads_url in ("location.search", "location.hash", "URLSearchParams"):
        assert reads_url not in script


@pytest.mark.parametrize("path", ["/api/events", "/healthz", "/nowhere"])
async def test_json_answers_are_nosniff(api: Api, path: str) -> None:
    response = await api.http.get(path)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_default_limits() -> None:
    settings = Settings()
    assert settings.header_timeout == 10
    assert settings.max_header_bytes == 256 * 1024


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    sock.settimeout(limit)
    started = time.monotonic()
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def test_trickled_headers_are_cut_off(strict_server: str) -> None:
    with socket.create_connection(_address(strict_server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        for i in range(40):  # 10 s of trickling if nobody stops us
            try:
                sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except OSError:
                closed = True
                break
            time.sleep(0.25)
        assert closed
        assert time.monotonic() - started < 6
        data, _ = _read_until_closed(sock, 5)
    assert data == b"" or data.startswith(b"HTTP/1.1 408")


def test_an_idle_connection_is_closed(strict_server: str) -> None:
    with socket.create_connection(_address(strict_server)) as sock:
        data, waited = _read_until_closed(sock, 10)
    assert data.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in data
    assert waited < 6


def test_a_slow_body_is_cut_off(strict_server: str) -> None:
    with socket.create_connection(_address(strict_server)) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query":'
        )
        data, waited = _read_until_closed(sock, 10)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert waited < 6


def test_huge_headers_are_refused(strict_server: str) -> None:
    with socket.create_connection(_address(strict_server)) as sock:
        with contextlib.suppress(OSError):  # closed while we were still sending: refused
            sock.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n\r\n"
            )
        try:
            data, _ = _read_until_closed(sock, 10)
        except OSError:
            data = b""
    assert data == b"" or data.startswith(b"HTTP/1.1 431"), data[:200]


def test_requests_within_the_limits_are_served(strict_server: str) -> None:
    with httpx.Client(base_url=strict_server, timeout=10) as client:
        for _ in range(2):  # keep-alive: the second request is read with fresh limits
            response = client.get("/healthz", headers={"X-Fill": "a" * 100_000})
            assert response.status_code == 200
            time.sleep(0.5)
