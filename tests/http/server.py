"""A real ``eventgraph serve`` process on a free port, for tests that need real sockets."""

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

from tests.fixtures.app import ADMIN_SECRET

EVENTGRAPH = Path(sys.executable).parent / "eventgraph"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(database_url: str, log_path: Path) -> Iterator[str]:
    """``eventgraph serve`` (one worker) on ``database_url``; yields its base URL once
    ``/readyz`` answers, and stops it on exit. Its log goes to ``log_path``."""
    port = _free_port()
    env = {
        **os.environ,
        "EVENTGRAPH_DATABASE_URL": database_url,
        "EVENTGRAPH_ADMIN_TOKEN": ADMIN_SECRET,
        "EVENTGRAPH_LOG_LEVEL": "INFO",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(EVENTGRAPH), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, "server not ready within 90 s"
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
