"""The webhook bench's receiver: answers every POST with 200 at once, counts requests and
notes when each event id first arrived (``time.monotonic``, the same clock in every
process of the machine).

In-process (``Counter`` is an ASGI app) or as a process of its own
(``python -m bench.webhook_receiver``: prints its port, then serves until stdin closes);
``GET /_stats`` answers ``{"count", "cpu_s"}``, ``GET /_seen/{id}`` the first arrival of
an event or ``null``, ``POST /_reset`` sets the count to 0.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from typing import Any

import orjson
import uvicorn


class Counter:
    """The receiver: counts requests and stamps the first arrival of each event id."""

    def __init__(self) -> None:
        self.count = 0
        self.first_seen: dict[str, float] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
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
