"""A real HTTP receiver on 127.0.0.1 (uvicorn in the test's event loop) that verifies every
Standard Webhooks signature with the official ``standardwebhooks`` library."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.asgi_body import read_body


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False  # never answer (until the connection is dropped)
    delay: float = 0.0  # seconds before answering


@dataclass
class Receiver:
    url: str
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    plan: list[Reply] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    in_flight: int = 0  # requests being answered now
    most_in_flight: int = 0

    def verified_by(self, item: Received, secret: str) -> bool:
        try:
            Webhook(secret).verify(item.body, item.headers)
        except WebhookVerificationError:
            return False
        return True

    async def wait_for(self, count: int, seconds: float = 15.0) -> list[Received]:
        async with asyncio.timeout(seconds), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)
        return self.received

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        item = Received(scope["path"], headers, body)
        for secret in self.secrets:  # every request must verify with the current secret
            assert self.verified_by(item, secret), "signature did not verify"
        reply = self.plan.pop(0) if self.plan else Reply()
        async with self.arrived:
            self.received.append(item)
            self.arrived.notify_all()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if reply.hang:
                await asyncio.Event().wait()
            await asyncio.sleep(reply.delay)
        finally:
            self.in_flight -= 1
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK waits
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    receiver = Receiver(url=f"http://127.0.0.1:{port}/hook")
    config = uvicorn.Config(receiver, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        server.force_exit = True
        await task
        sock.close()
