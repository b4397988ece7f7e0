"""One subscriber of the hub: its scope, its filter and its bounded queue."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping

from app.errors import EventgraphError
from app.events.read import EventRow
from app.realtime.routing import required_values
from db.query.ast import Filter
from db.query.filter_memory import matches, relations_used
from db.query.scope import ReadScope

FilterKey = tuple[ReadScope, str]
"""Subscribers with equal keys share one relation check per batch (``repr``: see
``db/repositories/events.py`` on why not equality)."""


class Overflowed(Exception):
    """The subscriber's queue was full; the stream turns it into ``SlowConsumer``."""


class Subscriber:
    """Fed by the hub's fan-out, drained by one stream.

    Plain filters are evaluated in memory; filters with relation tests (``parent``,
    ``children``, ``channel``, ``workspace``) are answered by the hub with one SQL statement
    per distinct ``key`` and batch, so they agree with the query engine exactly.
    """

    __slots__ = (
        "_queue",
        "_waiter",
        "channels",
        "ended",
        "filter",
        "key",
        "limit",
        "overflowed",
        "scope",
        "sink",
        "token_id",
        "types",
    )

    def __init__(
        self, *, scope: ReadScope, filter: Filter, token_id: str | None, limit: int
    ) -> None:
        self.scope = scope
        self.filter = filter
        self.key: FilterKey | None = (scope, repr(filter)) if relations_used(filter) else None
        self.channels = required_values(filter, "channel_id")
        self.types = required_values(filter, "type")
        self.token_id = token_id
        self.limit = limit
        self._queue: deque[tuple[EventRow, bool]] = deque()
        # Only while the stream waits: no Event (and its waiter deque) per subscriber.
        self._waiter: asyncio.Future[None] | None = None
        self.ended: EventgraphError | None = None
        self.overflowed = False
        self.sink: Callable[[EventRow, bool], bool] | None = None
        """Takes an event in the fan-out itself while the stream waits with nothing
        queued; False: not now (``EventStream.write_in_fan_out``)."""

    def accepts(self, row: EventRow, private: bool, hits: Mapping[FilterKey, set[str]]) -> bool:
        if not self.scope.can_read(
            channel_id=row["channel_id"],
            workspace_id=row["workspace_id"],
            channel_private=private,
        ):
            return False
        if self.key is not None:
            return row["id"] in hits[self.key]
        return matches(self.filter, row)

    def push(self, row: EventRow, replayed: bool) -> bool:
        """Queue one event; False when the queue was full (the subscriber is then over)."""
        if self.overflowed or self.ended is not None:
            return True
        if len(self._queue) >= self.limit:
            self.overflowed = True
            self._queue.clear()  # memory stays bounded; the client resumes from its position
            self._wake()
            return False
        if self.sink is None or not self._waiting() or not self.sink(row, replayed):
            self._queue.append((row, replayed))
            self._wake()
        return True

    def _waiting(self) -> bool:
        """The stream waits in ``next`` and nothing has woken it, so nothing is queued or
        on its way to the reader: an event handed to the sink now comes next in order."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self, error: EventgraphError) -> None:
        """End the stream with ``error`` (e.g. the token died) at its next read."""
        self.ended = error
        self._queue.clear()
        self._wake()

    async def next(self) -> tuple[EventRow, bool]:
        """The next queued event and whether it is a replay; raises when the stream is over."""
        while True:
            if self.ended is not None:
                raise self.ended
            if self.overflowed:
                raise Overflowed
            if self._queue:
                return self._queue.popleft()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
