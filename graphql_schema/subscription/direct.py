"""Rendered subscription events written straight to the WebSocket.

A subscription whose selection the renderer serves (``render.py``) over one of the
WebSocket protocols is parsed, validated and authorised by the general path, which then
calls the resolver once. From there the resolver itself drains the stream and writes each
event's ``next`` (graphql-transport-ws) or ``data`` (graphql-ws) frame: the event's
rendered text, encoded once per event and selection set, spliced into the operation's
frame. Strawberry's and graphql-core's per-event machinery (the executor, the result
hooks, the message dict, its encoding) is skipped; several queued events are written
without returning to the event loop between them, and while the resolver waits for the
next event, the fan-out writes that event itself (``Frames._write_now``).

Everything that ends a stream stays on the general path: an error from the stream
(``SLOW_CONSUMER``, ``UNAUTHENTICATED``) leaves the resolver and is sent as it always was,
then ``complete``; a client's ``complete`` (or ``stop``) cancels the operation's task. The
frame's shape is the transport's own message with a marker in place of ``data``, encoded
with the transport's encoder; ``tests/realtime/test_direct_frames.py`` holds the frames of
both paths equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator, Mapping
from contextvars import ContextVar
from functools import partial
from typing import Any

import orjson
from strawberry.http.exceptions import WebSocketDisconnected

from app.observability.metrics import STREAM_DIRECT, STREAM_WRITTEN_IN_FAN_OUT
from app.realtime.streams import EventStream, StreamEvent
from graphql_schema.subscription.render import CACHE, SelectionPlan

_MARK = "\x00"
"""Cannot occur in encoded JSON (control characters are escaped), so it splits the frame."""
DATA = orjson.Fragment(_MARK)
"""Where a frame template has its ``data``."""


class Frames:
    """The data frames of one operation on one socket."""

    __slots__ = ("_head", "_send", "_sending", "_tail")

    def __init__(
        self, send: Callable[[str], Coroutine[Any, Any, None]], message: Mapping[str, object]
    ):
        """``message``: the transport's data message for this operation, ``data`` = DATA."""
        self._send = send
        self._head, _, self._tail = orjson.dumps(message).decode().partition(_MARK)
        self._sending: asyncio.Future[None] | None = None  # a send the fan-out began

    async def write(self, stream: EventStream, plan: SelectionPlan) -> None:
        """Write every event of ``stream``; return when the client is gone. The stream's
        errors propagate (the general path sends them). While this waits for the next
        event, the fan-out writes the event itself (``_write_now``)."""
        STREAM_DIRECT.inc()
        head, tail, send = self._head, self._tail, self._send
        stream.write_in_fan_out(partial(self._write_now, plan))
        try:
            async for item in stream:
                text = CACHE.get(plan, item.row, item.replayed).text
                try:
                    if self._sending is not None:  # an earlier event's frame goes first
                        await self._sending
                        self._sending = None
                    await send(head + text + tail)
                except WebSocketDisconnected:
                    return
        finally:
            stream.write_in_fan_out(None)

    def _write_now(self, plan: SelectionPlan, item: StreamEvent) -> bool:
        """Write ``item``'s frame from the fan-out. The transport's send does not wait
        unless the socket's buffer is full (flow control): then it finishes in a task of
        its own, and later events queue until it has (``write`` awaits it first)."""
        sending = self._sending
        if sending is not None:
            if not sending.done() or sending.cancelled() or sending.exception() is not None:
                return False
            self._sending = None
        try:
            text = CACHE.get(plan, item.row, item.replayed).text
            self._sending = run_until_wait(self._send(self._head + text + self._tail))
        except Exception:  # the client is gone, say: the stream's own send will tell
            return False
        STREAM_WRITTEN_IN_FAN_OUT.inc()
        return True


def run_until_wait(coro: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run ``coro`` in the caller, up to its first wait: None when it finished without one
    (its exception raised here), else a task that runs the rest."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    rest = asyncio.ensure_future(_Rest(coro, waiting))
    rest.add_done_callback(_retrieved)  # its error is for whoever awaits it, if anyone
    return rest


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class _Rest:
    """A coroutine that has run to its first wait, awaitable for the rest (what a task's
    step does with a coroutine: pass the awaited future up, send the result back in)."""

    def __init__(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        self._coro, self._waiting = coro, waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self._waiting
        while True:
            try:
                try:
                    sent = yield waiting
                except BaseException as exc:
                    waiting = self._coro.throw(exc)
                else:
                    waiting = self._coro.send(sent)
            except StopIteration:
                return


FRAMES: ContextVar[Frames | None] = ContextVar("eventgraph_subscription_frames", default=None)
"""Set by the WebSocket handlers in each operation's task; None elsewhere (HTTP)."""
