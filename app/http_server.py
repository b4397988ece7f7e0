"""uvicorn's httptools protocol with the limits it lacks: a header-read timeout (also for a
connection that never sends a request), a header size limit and a body-read timeout.

uvicorn runs the httptools parser here; its own size setting (``h11_max_incomplete_event_
size``) applies to the h11 parser only, and it has no header or body timeout at all, so a
client trickling headers or a body held a connection and a request task forever.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _response(status: int, reason: str, code: str, message: str) -> bytes:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


@functools.cache
def _limits() -> tuple[float, float, int]:
    from app.settings import Settings

    settings = Settings()
    return settings.header_timeout, settings.body_timeout, settings.max_header_bytes


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes and the time a request takes to send its request line and
    headers (and its body), and answers 431 / 408 and closes past the limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # From the settings of this process: uvicorn takes the class by import path, so
        # that ``--workers N`` can start it in each (spawned) worker.
        self.header_timeout, self.body_timeout, self.max_header_bytes = _limits()
        self._reading_headers = True
        self._header_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def _arm(self, delay: float, what: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, self._expired, what)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, payload: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            if self.cycle is None or not self.cycle.response_started:
                self.transport.write(payload)
            self.transport.close()

    def _expired(self, what: str) -> None:
        self._timer = None
        self._refuse(
            _response(408, "Request Timeout", "REQUEST_TIMEOUT", f"the {what} took too long")
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            if self._timer is None:
                self._arm(self.header_timeout, "request headers")
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(
                    _response(
                        431,
                        "Request Header Fields Too Large",
                        "REQUEST_HEADER_FIELDS_TOO_LARGE",
                        f"the request line and headers exceed {self.max_header_bytes} bytes",
                    )
                )
                return
        super().data_received(data)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._header_bytes = 0
        self._arm(self.body_timeout, "request body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading_headers = True  # a pipelined or keep-alive request may follow
        super().on_message_complete()


PROTOCOL = f"{__name__}:{GuardedHttpToolsProtocol.__name__}"
"""What ``uvicorn.run(http=...)`` takes: an import path, picklable for worker processes."""
