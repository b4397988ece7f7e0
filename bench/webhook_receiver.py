"""The webhook bench's receiver: answers every POST with 200 at once, counts requests and
notes when each event id first arrived (``time.monotonic``, the same clock in every
process of the machine).

In-process (``Counter`` is an ASGI app) or as a process of its own
(``python -m bench.webhook_receiver``: prints its port, then serves until stdin closes);
``GET /_stats`` answers ``{"count", "cpu_s"}``, ``GET /_seen/{id}`` the first arrival of
an event or ``null``, ``POST /_reset`` sets the count to 0. ``Receiver`` is how the bench
starts and reads either.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from app.asgi_body import read_body

ROOT = Path(__file__).resolve().parent.parent


class Counter:
    """The receiver: counts requests and stamps the first arrival of each event id."""

    def __init__(self) -> None:
        self.count = 0
        self.first_seen: dict[str, float] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        path: str = scope["path"]
        answer = b"ok"
        if path == "/_stats":
            answer = orjson.dumps({"count": self.count, "cpu_s": time.process_time()})
        elif path.startswith("/_seen/"):
            answer = orjson.dumps(self.first_seen.get(path.removeprefix("/_seen/")))
        elif path == "/_reset":
            self.count = 0
        else:
            self.count += 1
            event_id = orjson.loads(body)["data"]["id"]
            self.first_seen.setdefault(event_id, time.monotonic())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})


def bound_socket() -> socket.socket:
    sock = socket.socket()
    # uvicorn sets no TCP_NODELAY on a socket it is handed: without it every response
    # waits ~40 ms for a delayed ACK (Nagle), which would be measured as our latency.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def server(app: Counter) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    )


class Receiver:
    """The receiver as the bench sees it: in this process or in its own."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._counter = Counter()
        self._process: asyncio.subprocess.Process | None = None
        self._serving: asyncio.Task[None] | None = None
        self._server: uvicorn.Server | None = None
        self._client = httpx.AsyncClient(timeout=30)
        self.url = ""

    async def start(self) -> None:
        if self.mode == "inline":
            sock = bound_socket()
            self._server = server(self._counter)
            self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
            port = sock.getsockname()[1]
        else:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.webhook_receiver",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=ROOT,
            )
            assert self._process.stdout is not None
            port = int(await self._process.stdout.readline())
        self.url = f"http://127.0.0.1:{port}/hook"
        base = self.url.removesuffix("/hook")
        async with asyncio.timeout(30):
            while True:
                try:
                    await self._client.get(f"{base}/_stats")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await self._client.aclose()
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            await self._process.wait()

    async def _get(self, path: str) -> Any:
        response = await self._client.get(self.url.removesuffix("/hook") + path)
        return orjson.loads(response.content)

    async def count(self) -> int:
        if self.mode == "inline":
            return self._counter.count
        return int((await self._get("/_stats"))["count"])

    async def reset(self) -> None:
        self._counter.count = 0
        if self.mode != "inline":
            await self._client.post(self.url.removesuffix("/hook") + "/_reset")

    async def seen(self, event_id: str) -> float | None:
        if self.mode == "inline":
            return self._counter.first_seen.get(event_id)
        found = await self._get(f"/_seen/{event_id}")
        return None if found is None else float(found)

    async def cpu_s(self) -> float:
        """The receiver process's CPU seconds so far (0 inline: it is this process's)."""
        return 0.0 if self.mode == "inline" else float((await self._get("/_stats"))["cpu_s"])


async def _serve_until_stdin_closes() -> None:
    sock = bound_socket()
    print(sock.getsockname()[1], flush=True)
    receiver = server(Counter())
    serving = asyncio.create_task(receiver.serve(sockets=[sock]))
    await asyncio.to_thread(sys.stdin.read)
    receiver.should_exit = True
    await serving


if __name__ == "__main__":
    asyncio.run(_serve_until_stdin_closes())
