"""Request bodies over EVENTGRAPH_MAX_BODY_BYTES get 413 with the JSON error envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.types import Message, Receive, Scope, Send

from app.http_limits import BodyLimitMiddleware
from tests.fixtures.app import Api


async def _echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """A tiny ASGI app that reads the whole body and reports its length."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RuntimeError("client went away")
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def _client(limit: int) -> httpx.AsyncClient:
    app = BodyLimitMiddleware(_echo_length, max_body_bytes=limit)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_content_length_over_the_limit(api: Api) -> None:
    response = await api.http.post("/graphql", content=b"x" * (8 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_small_bodies_pass() -> None:
    async with _client(1024) as client:
        response = await client.post("/", content=b"x" * 1024)
    assert response.status_code == 200
    assert response.text == "1024"


async def test_chunked_body_over_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 300

    async with _client(1024) as client:
        response = await client.post("/", content=chunks())
    assert response.status_code == 413
    body = response.json()
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1024" in body["error"]["message"]


async def test_declared_length_does_not_excuse_a_chunked_body() -> None:
    """The middleware trusts ``Content-Length`` only without ``Transfer-Encoding`` (which
    wins over it in HTTP/1.1): a chunked body past the limit is still refused."""
    app = BodyLimitMiddleware(_echo_length, max_body_bytes=1024)
    chunks = [
        {"type": "http.request", "body": b"x" * 600, "more_body": True},
        {"type": "http.request", "body": b"x" * 600, "more_body": False},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return chunks.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", b"10"), (b"transfer-encoding", b"chunked")],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
