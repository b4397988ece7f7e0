"""Rendered subscription events written straight to the WebSocket.

A subscription whose selection the renderer serves (``render.py``) over one of the
WebSocket protocols is parsed, validated and authorised by the general path, which then
calls the resolver once. From there the resolver itself drains the stream and writes each
event's ``next`` (graphql-transport-ws) or ``data`` (graphql-ws) frame: the event's
rendered text, encoded once per event and selection set, spliced into the operation's
frame. Strawberry's and graphql-core's per-event machinery (the executor, the result
hooks, the message dict, its encoding) is skipped; several queued events are written
without returning to the event loop between them.

Everything that ends a stream stays on the general path: an error from the stream
(``SLOW_CONSUMER``, ``UNAUTHENTICATED``) leaves the resolver and is sent as it always was,
then ``complete``; a client's ``complete`` (or ``stop``) cancels the operation's task. The
frame's shape is the transport's own message with a marker in place of ``data``, encoded
with the transport's encoder; ``tests/realtime/test_direct_frames.py`` holds the frames of
both paths equal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar

import orjson
from strawberry.http.exceptions import WebSocketDisconnected

from app.observability.metrics import STREAM_DIRECT
from app.realtime.streams import StreamEvent
from graphql_schema.subscription.render import CACHE, SelectionPlan

_MARK = "\x00"
"""Cannot occur in encoded JSON (control characters are escaped), so it splits the frame."""
DATA = orjson.Fragment(_MARK)
"""Where a frame template has its ``data``."""


class Frames:
    """The data frames of one operation on one socket."""

    __slots__ = ("_head", "_send", "_tail")

    def __init__(self, send: Callable[[str], Awaitable[None]], message: Mapping[str, object]):
        """``message``: the transport's data message for this operation, ``data`` = DATA."""
        self._send = send
        self._head, _, self._tail = orjson.dumps(message).decode().partition(_MARK)

    async def write(self, stream: AsyncIterator[StreamEvent], plan: SelectionPlan) -> None:
        """Write every event of ``stream``; return when the client is gone. The stream's
        errors propagate (the general path sends them)."""
        STREAM_DIRECT.inc()
        head, tail, send = self._head, self._tail, self._send
        async for item in stream:
            text = CACHE.get(plan, item.row, item.replayed).text
            try:
                await send(head + text + tail)
            except WebSocketDisconnected:
                return


FRAMES: ContextVar[Frames | None] = ContextVar("eventgraph_subscription_frames", default=None)
"""Set by the WebSocket handlers in each operation's task; None elsewhere (HTTP)."""
