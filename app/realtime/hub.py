"""The hub: ONE tail per process following ``events.seq``, fanned out in memory.

Subscribers never query the database per event. The tail takes every event with a
position above the last one it handled, in ``seq`` (commit) order, whenever it is woken
(a local publish, a bus message) and at least every ``stream_poll_seconds``. The events
this process has just published and committed are kept here by position and taken while
they continue the position without a hole; everything else is read from the database.
Why this is gapless is written down in docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from app.errors import ServiceUnavailable, Unauthenticated
from app.events.read import EventRow
from app.observability.metrics import (
    STREAM_FANNED_OUT,
    STREAM_SLOW_CONSUMERS,
    STREAM_TAIL_FROM_DATABASE,
    STREAM_TAIL_FROM_MEMORY,
    STREAM_TAIL_FROM_PUBLISH,
)
from app.realtime.bus import Bus
from app.realtime.routing import Routes
from app.realtime.subscriber import FilterKey, Subscriber
from app.settings import Settings
from app.tasks import cancel_and_wait
from db.database import Database, DatabaseUnavailable, ReadConn, WriteConn
from db.notify import NOTIFY_LIMIT_BYTES, Notice
from db.query.ast import Filter
from db.query.scope import ReadScope
from db.repositories import stream as stream_repo

logger = logging.getLogger("eventgraph.realtime")

TAIL_BATCH = 1000
REPLAY_BATCH = 200
QUEUE_SHARE = 4
"""A tail or replay batch is at most 1/QUEUE_SHARE of a subscriber's queue bound, so a
burst cannot fill the queue of a subscriber that drains while the next batch is read."""
HELD_MAX = 4096
"""Rows of this process's publishes kept for the tail; past it they are dropped and the
tail reads them from the database."""
HOLE_WAIT = 0.02
"""Seconds the tail waits for the publish that fills a hole below the rows it keeps (a
member of a joined statement that has not reported yet) before it reads the database."""
Batch = list[tuple[EventRow, bool]]  # (row, channel is private)
T = TypeVar("T")


class Hub:
    """Owns the tail task, the token check task and the set of subscribers."""

    def __init__(self, *, db: Database, bus: Bus, settings: Settings) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self.position = 0
        self.position_id: str | None = None
        self._positioned = False
        self._origin = secrets.token_hex(6)
        self._subscribers: set[Subscriber] = set()
        self._routes: Routes | None = None  # built from _subscribers when a batch needs it
        self._wake = asyncio.Event()
        self._held: dict[int, stream_repo.Row] = {}  # seq -> tail row, every seq > position
        self._read_due = True  # the next round reads the database (else: only what is held)
        self._held_since_read = False  # rows were held since the last read began
        self._in_round = False  # the tail task is inside a round (it may be awaiting)
        self._replays: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._reader = db.kept_read()  # the tail's reads (on SQLite: pooled)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # A database that is down at start-up must not keep the process from serving (it
        # answers 503 meanwhile): the tail takes its starting position once it can.
        await self._take_position()
        await self.bus.start(self._on_message)
        self._tasks = [
            asyncio.create_task(self._tail(), name="eventgraph-tail"),
            asyncio.create_task(self._check_tokens(), name="eventgraph-token-check"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)
        await self.bus.stop()
        if self._reader is not None:
            await self._reader.close()

    async def _take_position(self) -> bool:
        try:
            # No checkout ping (a retry instead, as the tail's reads): a ping that fails on a
            # fresh connection three times over is not a DatabaseUnavailable, and would stop
            # the process from starting.
            self.position, self.position_id = await self.db.run_read(stream_repo.last_position)
        except DatabaseUnavailable:
            return False
        self._held.clear()
        self._read_due = True
        self._positioned = True
        return True

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def _batch(self, most: int) -> int:
        """Events per tail or replay read: ``most``, and well below the queue bound."""
        return max(1, min(most, self.settings.stream_queue_size // QUEUE_SHARE))

    # -- subscribers --------------------------------------------------------------------

    def register(
        self, *, scope: ReadScope, filter: Filter, token_id: str | None
    ) -> tuple[Subscriber, str | None]:
        """A new subscriber and the id at the hub's position: every event above that
        position reaches its queue (no await between reading it and registering)."""
        if not self._positioned:
            raise ServiceUnavailable("the event stream is not ready (database unavailable)")
        subscriber = Subscriber(
            scope=scope,
            filter=filter,
            token_id=token_id,
            limit=self.settings.stream_queue_size,
        )
        self._subscribers.add(subscriber)
        self._routes = None
        return subscriber, self.position_id

    def unregister(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self._routes = None

    def _current_routes(self) -> Routes:
        """The subscribers registered now, indexed (rebuilt only after a change)."""
        if self._routes is None:
            self._routes = Routes(self._subscribers)
        return self._routes

    # -- wake-ups -------------------------------------------------------------------------

    async def stage_published(self, conn: WriteConn) -> None:
        """Inside a publishing transaction, before its rows are written: wake the other
        processes at its commit, when the bus can send with it (LISTEN/NOTIFY on the event
        database). The message cannot carry the position yet; receivers only wake."""
        if self.bus.at_commit:
            await self.bus.stage(conn, f"p {self._origin}")

    def wake_notice(self) -> Notice | None:
        """``stage_published`` as a notice for a publish that is one statement."""
        return self.bus.commit_notice(f"p {self._origin}") if self.bus.at_commit else None

    async def published(self, rows: Sequence[EventRow], *, private: bool | None) -> None:
        """After a publish of ``rows`` (``seq`` set) commits: keep them for the tail (with
        their channel's ``private`` flag; ``None``: unknown, the tail reads them), take
        them now, and wake the other processes (unless the commit already did). The tail
        is woken only for what is left: rows still held (it is in a round, a relation
        filter needs the database, a hole) or a read now due."""
        self._hold(rows, private)
        queued = self._deliver_held()
        if self._held or self._read_due:
            self._wake.set()
        if rows and not self.bus.at_commit:
            await self._send(f"p {self._origin} {max(row['seq'] for row in rows)}")
        if queued:
            # The subscribers just woken write their frames before this publish answers.
            await asyncio.sleep(0)

    async def replayed(self, rows: Sequence[EventRow]) -> None:
        """After a replay batch commits: deliver it here and in every other process."""
        ids = [row["id"] for row in rows]
        self._replays.extend(ids)
        self._wake.set()
        message: list[str] = []
        for event_id in ids:
            if len(" ".join(message)) + len(event_id) > NOTIFY_LIMIT_BYTES - 40:
                await self._send(f"r {self._origin} {','.join(message)}")
                message = []
            message.append(event_id)
        if message:
            await self._send(f"r {self._origin} {','.join(message)}")

    async def _send(self, message: str) -> None:
        try:
            await self.bus.publish(message)
        except Exception as exc:  # the other processes' timers still find published events
            logger.warning("broadcast publish failed (%s): %s", self.bus.name, exc)

    def _hold(self, rows: Sequence[EventRow], private: bool | None) -> None:
        """Keep committed ``rows`` as the tail would read them, by position. Positions are
        committed in order, so the rows that continue the tail's position without a hole
        are the next ones in the database too (docs/realtime.md)."""
        held = self._held
        if private is None or len(held) + len(rows) > HELD_MAX:
            held.clear()
            self._read_due = True
            return
        dialect = self.db.dialect
        for row in rows:
            seq = row["seq"]
            if seq <= self.position:
                continue
            try:
                held[seq] = stream_repo.tail_row(row, private=private, dialect=dialect)
            except ValueError:  # a value the database may give back otherwise: read it
                self._read_due = True
            else:
                self._held_since_read = True

    def _deliver_held(self) -> bool:
        """Fan out, in the publishing task, the held rows that continue the position: the
        subscribers' queues have them before the publish answers, instead of after the
        tail task's turn comes round on a busy loop. As the tail does it, with no await:
        only while the tail is between rounds (it moves the position itself otherwise) and
        when no subscriber's filter needs the database (relation tests); else the tail
        takes them as before."""
        if self._in_round or not self._positioned:
            return False
        routes = self._current_routes()
        if routes.relation_filters:
            return False
        rows = self._take_held(self._batch(TAIL_BATCH))
        if not rows:
            return False
        STREAM_TAIL_FROM_PUBLISH.inc()
        self.position, self.position_id = rows[-1]["seq"], rows[-1]["id"]
        try:
            return self._push(_split_privacy(rows), routes, {}, replayed=False) > 0
        except Exception:  # the publish has committed: it must not answer an error
            logger.exception("realtime fan-out failed")
            return False

    def _on_message(self, message: str) -> None:
        kind, _, rest = message.partition(" ")
        origin, _, body = rest.partition(" ")
        if origin == self._origin:
            return
        if kind == "r":
            self._replays.extend(i for i in body.split(",") if i)
        self._read_due = True  # another process published (or the bus reconnected)
        self._wake.set()

    # -- the tail -------------------------------------------------------------------------

    async def _tail(self) -> None:
        while True:
            # Rows held above a hole: wait briefly for the publish that fills it, then read.
            # (Rows a read left held were deleted, or committed after it: no new haste.)
            hole = self._held and self._held_since_read
            wait = HOLE_WAIT if hole else self.settings.stream_poll_seconds
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                self._read_due = True
            self._wake.clear()
            if not self._positioned and not await self._take_position():
                continue
            self._in_round = True
            try:
                await self._catch_up()
                await self._deliver_replays()
                continue
            except DatabaseUnavailable:  # logged, at a bounded rate, where it was mapped
                pass
            except Exception:  # a database hiccup: the next round reads from the same place
                logger.exception("realtime tail failed; retrying")
            finally:
                self._in_round = False
            self._read_due = True
            await asyncio.sleep(self.settings.stream_poll_seconds)

    async def _catch_up(self) -> None:
        """Take the held rows that continue the position; read the database when a round
        is due (a timer, another process's wake-up, a hole, rows not held)."""
        limit = self._batch(TAIL_BATCH)
        read, self._read_due = self._read_due, False
        while True:
            rows = self._take_held(limit)
            if rows:
                STREAM_TAIL_FROM_MEMORY.inc()
            elif read:
                # Run on every wake-up that reads: no checkout ping, a retry instead.
                self._held_since_read = False
                rows = await self._read(lambda conn: self._next_rows(conn, limit))
                STREAM_TAIL_FROM_DATABASE.inc()
                if not rows:
                    return
                self._drop_held(rows[-1]["seq"])
                read = len(rows) == limit  # a full batch: more may follow
            else:
                return
            routes = self._current_routes()
            # Moved before any await: a subscriber registering from here on reads this
            # batch as backlog, and it is not in ``routes``.
            self.position, self.position_id = rows[-1]["seq"], rows[-1]["id"]
            hits = await self._relation_hits(rows, routes.relation_filters)
            self._push(_split_privacy(rows), routes, hits, replayed=False)
            if len(rows) == limit:  # a burst: let subscribers drain before the next batch
                await asyncio.sleep(0)

    def _take_held(self, limit: int) -> list[stream_repo.Row]:
        """The held rows at ``position + 1, + 2, ...`` (at most ``limit``), taken out."""
        held = self._held
        rows: list[stream_repo.Row] = []
        seq = self.position + 1
        while len(rows) < limit and (row := held.pop(seq, None)) is not None:
            rows.append(row)
            seq += 1
        return rows

    def _drop_held(self, through: int) -> None:
        """Forget the held rows up to ``through`` (the database read them)."""
        held = self._held
        if through - self.position > len(held):
            self._held = {seq: row for seq, row in held.items() if seq > through}
        else:
            for seq in range(self.position + 1, through + 1):
                held.pop(seq, None)

    async def _read(self, work: Callable[[ReadConn], Awaitable[T]]) -> T:
        """``work`` on the tail's kept connection (``db/kept_read.py``), else pooled."""
        if self._reader is not None:
            return await self._reader.run(work)
        return await self.db.run_read(work)

    async def _next_rows(self, conn: ReadConn, limit: int) -> list[stream_repo.Row]:
        return await stream_repo.tail(conn, after_seq=self.position, limit=limit)

    async def _deliver_replays(self) -> None:
        limit = self._batch(REPLAY_BATCH)
        while self._replays:
            ids, self._replays = self._replays[:limit], self._replays[limit:]
            async with self.db.read() as conn:
                rows = await stream_repo.by_ids(conn, ids)
            routes = self._current_routes()
            hits = await self._relation_hits(rows, routes.relation_filters)
            self._push(_split_privacy(rows), routes, hits, replayed=True)

    def _push(
        self, batch: Batch, routes: Routes, hits: Mapping[FilterKey, set[str]], *, replayed: bool
    ) -> int:
        """Queue ``batch`` for the subscribers of ``routes`` that accept it; how many
        (event, subscriber) pairs were queued."""
        queued = 0
        for row, private in batch:
            for subscriber in routes.offered(row):
                if subscriber.accepts(row, private, hits):
                    queued += 1
                    if not subscriber.push(row, replayed):
                        STREAM_SLOW_CONSUMERS.inc()
        if queued:
            STREAM_FANNED_OUT.labels("replayed" if replayed else "published").inc(queued)
        return queued

    async def _relation_hits(
        self, rows: list[stream_repo.Row], wanted: Mapping[FilterKey, Subscriber]
    ) -> dict[FilterKey, set[str]]:
        """One statement per distinct relation filter: which ids of the rows match."""
        if not wanted or not rows:
            return {}
        ids = [row["id"] for row in rows]
        hits: dict[FilterKey, set[str]] = {}
        async with self.db.read() as conn:
            for key, subscriber in wanted.items():
                hits[key] = await stream_repo.matching_ids(
                    conn, scope=subscriber.scope, filter=subscriber.filter, ids=ids
                )
        return hits

    # -- credentials ----------------------------------------------------------------------

    async def _check_tokens(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stream_auth_check_seconds)
            try:
                await self.check_tokens()
            except DatabaseUnavailable:  # logged where mapped; the next round checks again
                continue
            except Exception:
                logger.exception("token check failed; retrying")

    async def check_tokens(self) -> None:
        """End the streams of tokens revoked or expired since they opened (one round)."""
        token_ids = {s.token_id for s in self._subscribers if s.token_id is not None}
        if not token_ids:
            return
        async with self.db.read() as conn:
            live = await stream_repo.live_token_ids(
                conn, ids=sorted(token_ids), now=datetime.now(UTC)
            )
        dead = token_ids - live
        # Only tokens that were asked about: a subscriber that registered during the query
        # has a token this round did not look up, and is checked in the next one.
        for subscriber in list(self._subscribers):
            if subscriber.token_id in dead:
                subscriber.end(Unauthenticated("the token was revoked or has expired"))


def _split_privacy(rows: list[dict[str, object]]) -> Batch:
    return [(row, bool(row.pop(stream_repo.CHANNEL_PRIVATE))) for row in rows]
