"""Request-body limit: a pure ASGI middleware answering 413 before the app sees too much."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large_body(limit: int) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "code": "PAYLOAD_TOO_LARGE",
                "message": f"request body exceeds the limit of {limit} bytes",
            }
        }
    )


class BodyLimitMiddleware:
    """Rejects bodies over ``max_body_bytes`` by ``Content-Length`` up front and, for chunked
    bodies, as soon as the running total passes the limit (the app then sees a disconnect).
    A request declaring a ``Content-Length`` within the limit (and no ``Transfer-Encoding``)
    passes unwrapped: the HTTP server hands on exactly that many bytes of body."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _reject(self, send: Send) -> None:
        body = _too_large_body(self.max_body_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = -1  # none, or not a number
        chunked = False
        seen_length = False
        for name, value in scope.get("headers", ()):
            if name == b"transfer-encoding":
                chunked = True
            elif name == b"content-length" and not seen_length:
                seen_length = True
                try:
                    declared = int(value)
                except ValueError:
                    continue
                if declared > self.max_body_bytes:
                    await self._reject(send)
                    return
        if declared >= 0 and not chunked:
            # the server hands on exactly Content-Length bytes of body: nothing to count
            await self.app(scope, receive, send)
            return
        received = 0
        rejected = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    rejected = True
                    if not response_started:
                        await self._reject(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if rejected:
                return  # our 413 already answered; drop whatever the app sends
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise
