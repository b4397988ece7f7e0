"""The one way the pure ASGI middlewares answer on their own: a complete JSON response."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Send


async def send_json(
    send: Send, body: bytes, *, status: int = 200, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send ``body`` (already encoded JSON) as the whole response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
