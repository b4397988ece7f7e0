"""``eventgraph serve`` as a child process on a free port: the one launcher of the tests'
and benchmarks' real servers. Start it, wait until a path answers 200, stop its process
group (``--workers N`` spawns children)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

EVENTGRAPH = str(Path(sys.executable).parent / "eventgraph")


class ServerDidNotStart(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Launched:
    """One ``eventgraph serve`` process listening on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}{path}", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_ready(self, *, path: str = "/healthz", seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        while not self.answers(path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                state = "exited" if self.process.poll() is not None else "did not answer"
                tail = self.log.read_text(errors="replace")[-3000:]
                raise ServerDidNotStart(f"eventgraph serve {state} ({path}):\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(
    env: Mapping[str, str], *, log: Path, args: Sequence[str] = (), port: int | None = None
) -> Launched:
    """Starts ``eventgraph serve`` on ``port`` (default: a free one) with ``env`` over this
    process's environment; returns at once (``wait_ready`` waits)."""
    port = port or free_port()
    environment = {**os.environ, "EVENTGRAPH_HOST": "127.0.0.1", **env}
    environment["EVENTGRAPH_PORT"] = str(port)
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own executable, arguments from callers
            [EVENTGRAPH, "serve", *args],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Launched(port, process, log)


@contextmanager
def launched(
    env: Mapping[str, str],
    *,
    log: Path,
    args: Sequence[str] = (),
    ready_path: str = "/healthz",
    seconds: float = 120.0,
    port: int | None = None,
) -> Iterator[Launched]:
    """A started and ready server for the block; stopped on exit."""
    server = start(env, log=log, args=args, port=port)
    try:
        server.wait_ready(path=ready_path, seconds=seconds)
        yield server
    finally:
        server.stop()
