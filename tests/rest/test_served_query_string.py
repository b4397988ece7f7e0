"""A 32 KB JSON filter on the query string through the real `eventgraph serve` (uvicorn)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.app import ADMIN_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "EVENTGRAPH_DATABASE_URL": database_url,
        "EVENTGRAPH_ADMIN_TOKEN": ADMIN_SECRET,
        "EVENTGRAPH_PORT": str(port),
        "EVENTGRAPH_HOST": "127.0.0.1",
    }
    log = (tmp_path / "server.log").open("w+")
    eventgraph = Path(sys.executable).parent / "eventgraph"
    process = subprocess.Popen(
        [str(eventgraph), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine imports slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start:\n{log.read()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_32_kb_filter_through_uvicorn(server: str) -> None:
    values = [f"type-{i:05d}-{'x' * 40}" for i in range(640)]
    filter_json = json.dumps(
        {"OR": [{"type": {"in": values[j : j + 100]}} for j in range(0, 640, 100)]}
    )
    assert len(filter_json) > 32 * 1024
    headers = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    r = httpx.get(
        f"{server}/api/events", params={"filter": filter_json}, headers=headers, timeout=30
    )
    assert r.status_code == 200, r.text[:500]
    assert r.json()["data"] == []
    assert r.json()["pageInfo"]["total"] == 0
