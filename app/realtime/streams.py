"""The app-level stream API that GraphQL subscriptions and SSE routes both call.

    async with open_stream(hub, principal=p, filter=f, after=None, snapshot=10) as events:
        async for item in events:  # StreamEvent: row, replayed, resume_after
            ...

Errors are ``app.errors`` exceptions: ``BadInput`` before the stream opens (unknown
``after``, ``after`` with ``snapshot``, a snapshot out of range, a bad filter);
``SlowConsumer`` (with ``resume_after``) or ``Unauthenticated`` (token revoked or expired)
from the iterator.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Literal

from app.auth.principal import Principal
from app.errors import BadInput, SlowConsumer
from app.events.read import EventRow
from app.observability.metrics import STREAM_LATENCY, STREAM_SUBSCRIBERS
from app.realtime.hub import Hub
from app.realtime.subscriber import Overflowed, Subscriber
from db.query.ast import TRUE, Filter
from db.query.filter_sql import UnsupportedFilterError
from db.query.limits import FilterLimitError, check_limits
from db.query.scope import ReadScope
from db.repositories import stream as stream_repo

MAX_SNAPSHOT = 1000
BACKLOG_PAGE = 500
Transport = Literal["websocket", "sse"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One delivered event.

    ``resume_after`` is the id to resume after once this event is handled (``after`` /
    ``Last-Event-ID``): the event's own id for a live event (for the last backlog event,
    the start position, which may lie beyond it); for a replay, the position the stream had
    already reached, since a replay is an old event re-sent and resuming after it would
    repeat everything published since.
    """

    row: EventRow
    replayed: bool
    resume_after: str | None


def _check(scope: ReadScope, filter: Filter, after: str | None, snapshot: int | None) -> None:
    if after is not None and snapshot is not None:
        raise BadInput("after and snapshot cannot be used together", path="snapshot")
    if snapshot is not None and not 0 <= snapshot <= MAX_SNAPSHOT:
        raise BadInput(f"snapshot must be between 0 and {MAX_SNAPSHOT}", path="snapshot")
    try:
        check_limits(filter)
        stream_repo.check_filter(scope, filter)
    except FilterLimitError as exc:
        raise BadInput(exc.message, path=exc.path) from exc
    except UnsupportedFilterError as exc:
        raise BadInput(str(exc), path="filter") from exc


@asynccontextmanager
async def open_stream(
    hub: Hub,
    *,
    principal: Principal,
    filter: Filter | None,
    after: str | None,
    snapshot: int | None,
    transport: Transport = "websocket",
) -> AsyncIterator[EventStream]:
    """Open a stream of the events ``principal`` may read that match ``filter``.

    ``snapshot: N`` first delivers the last N matches (oldest first); ``after: <id>`` every
    match published after that event; then the stream goes live, with no gap and no
    duplicate at the switch. Leaving the ``async with`` unregisters the subscriber.
    """
    scope = principal.read_scope
    query = filter if filter is not None else TRUE
    _check(scope, query, after, snapshot)
    after_seq: int | None = None
    if after is not None:
        async with hub.db.read() as conn:
            after_seq = await stream_repo.seq_of(conn, after)
        if after_seq is None:
            raise BadInput(f"unknown event id {after!r}", path="after")
    subscriber, start_id = hub.register(scope=scope, filter=query, token_id=principal.token_id)
    gauge = STREAM_SUBSCRIBERS.labels(transport)
    gauge.inc()
    try:
        stream = EventStream(
            hub,
            subscriber,
            after=(after, after_seq) if after is not None and after_seq is not None else None,
            snapshot=snapshot,
            start_id=start_id,
        )
        await stream.open()
        yield stream
    finally:
        hub.unregister(subscriber)
        gauge.dec()


class EventStream:
    """Backlog (snapshot or after), then the live queue.

    The subscriber is registered before the backlog is read, so every event committed
    after the hub's position at registration reaches its queue. The backlog reads the
    store as it is when queried; live events up to the backlog's last position are then
    dropped as already delivered (or, for a snapshot, as older than it). See
    docs/realtime.md for the whole argument.
    """

    def __init__(
        self,
        hub: Hub,
        subscriber: Subscriber,
        *,
        after: tuple[str, int] | None,
        snapshot: int | None,
        start_id: str | None,
    ) -> None:
        self._hub = hub
        self._subscriber = subscriber
        self._snapshot = snapshot
        self._cursor = after[1] if after is not None else None
        self._delivered_upto = 0  # live events at or below this seq were in the backlog
        self.resume_after = after[0] if after is not None else start_id
        self._backlog: list[stream_repo.Row] = []  # newest first, popped from the end
        self._backlog_open = after is not None or bool(snapshot)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> StreamEvent:
        if not self._backlog and self._backlog_open:
            await self._read_backlog()
        if self._backlog:
            first = self._backlog.pop()
            self.resume_after = first["id"]
            return StreamEvent(first, False, first["id"])
        while True:
            try:
                row, replayed = await self._subscriber.next()
            except Overflowed:
                raise SlowConsumer(self.resume_after) from None
            event = self._live(row, replayed)
            if event is not None:
                self._handed(event)
                return event

    def write_in_fan_out(self, write: Callable[[StreamEvent], bool] | None) -> None:
        """Let the fan-out hand live events to ``write`` itself, in its own task, while
        this stream's reader waits with nothing queued (``Subscriber.push``): the event
        does not wait for the reader's task to come round on a busy event loop. ``write``
        returns False when it cannot take the event now (it is then queued, as without
        it); None stops it."""
        self._subscriber.sink = None if write is None else partial(self._write_live, write)

    def _write_live(
        self, write: Callable[[StreamEvent], bool], row: EventRow, replayed: bool
    ) -> bool:
        event = self._live(row, replayed)
        if event is None:
            return True  # in the backlog already: dropped, as __anext__ drops it
        if not write(event):
            return False
        self._handed(event)
        return True

    def _live(self, row: EventRow, replayed: bool) -> StreamEvent | None:
        """The live event for a queued row; None when the backlog had it."""
        if replayed:
            return StreamEvent(row, True, self.resume_after)
        if row["seq"] <= self._delivered_upto:
            return None
        return StreamEvent(row, False, row["id"])

    def _handed(self, event: StreamEvent) -> None:
        if not event.replayed:
            self.resume_after = event.row["id"]
            created = event.row["created_at"].timestamp()
            STREAM_LATENCY.observe(max(0.0, time.time() - created))

    async def open(self) -> None:
        """Read the snapshot (or the first backlog page) as of now."""
        if self._backlog_open:
            await self._read_backlog()

    async def _read_backlog(self) -> None:
        subscriber = self._subscriber
        async with self._hub.db.read() as conn:
            if self._cursor is None:
                assert self._snapshot
                rows = await stream_repo.backlog_last(
                    conn, scope=subscriber.scope, filter=subscriber.filter, count=self._snapshot
                )
                self._backlog_open = False
            else:
                rows = await stream_repo.backlog_after(
                    conn,
                    scope=subscriber.scope,
                    filter=subscriber.filter,
                    after_seq=self._cursor,
                    limit=BACKLOG_PAGE,
                )
                if rows:
                    self._cursor = rows[-1]["seq"]
                self._backlog_open = len(rows) == BACKLOG_PAGE
        if rows:
            self._delivered_upto = rows[-1]["seq"]
        rows.reverse()
        self._backlog = rows  # read only once the previous page is used up
