"""The wake-up bus between processes: a small interface and its three backends.

Messages carry positions and ids only, never event bodies (see docs/realtime.md). A message
is a hint: the tail also reads on a timer, so a lost one costs latency, never an event.

- memory (SQLite default, one process): broadcaster's in-process backend;
- PostgreSQL LISTEN/NOTIFY (PostgreSQL default): ``db.notify.NotifyListener``, because
  broadcaster's backend neither detects a dead connection nor reconnects;
- Redis (``EVENTGRAPH_BROADCAST_URL=redis://...``): ``app.realtime.redis_bus``, for the
  same reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Protocol

from broadcaster import Broadcast

from app.observability.metrics import BUS_CONNECTED, BUS_RECONNECTS
from app.settings import Settings
from app.tasks import cancel_and_wait
from db.database import Database, WriteConn
from db.notify import Notice, NotifyListener, asyncpg_dsn, notify, notify_at_commit

CHANNEL = "eventgraph_events"
OnMessage = Callable[[str], None]


class Bus(Protocol):
    """Carries short text messages to every process (the sender included)."""

    name: str

    @property
    def connected(self) -> bool:
        """Whether messages can currently be received."""

    async def start(self, on_message: OnMessage) -> None: ...

    async def publish(self, message: str) -> None:
        """Send ``message``; raises when the bus cannot take it."""

    @property
    def at_commit(self) -> bool:
        """Whether ``stage`` can send with a writing transaction's commit."""

    async def stage(self, conn: WriteConn, message: str) -> None:
        """Send ``message`` when the transaction of ``conn`` commits (only if ``at_commit``)."""

    def commit_notice(self, message: str) -> Notice:
        """``message`` as a notice a write statement sends with its commit (only if
        ``at_commit``)."""

    async def stop(self) -> None: ...


async def wait_up(up: asyncio.Event, check_seconds: float) -> None:
    """Give a new connection a moment, so a fresh process starts ready; a bus that does not
    come up is retried in the background and shown by /readyz meanwhile."""
    with suppress(TimeoutError):
        async with asyncio.timeout(check_seconds * 10):
            await up.wait()


def record_state(bus: str, connected: bool, reconnect: bool) -> None:
    """Metrics of a bus connection state change."""
    BUS_CONNECTED.labels(bus).set(1 if connected else 0)
    if reconnect:
        BUS_RECONNECTS.labels(bus).inc()


class MemoryBus:
    """In-process (one process): broadcaster's memory backend."""

    name = "memory"
    at_commit = False  # sends after the commit

    def __init__(self) -> None:
        self._broadcast = Broadcast("memory://")
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, on_message: OnMessage) -> None:
        await self._broadcast.connect()
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(on_message, ready))
        await ready.wait()
        record_state(self.name, True, False)

    async def _listen(self, on_message: OnMessage, ready: asyncio.Event) -> None:
        async with self._broadcast.subscribe(CHANNEL) as subscriber:
            ready.set()
            while True:
                on_message((await subscriber.get()).message)

    async def publish(self, message: str) -> None:
        await self._broadcast.publish(CHANNEL, message)

    async def stage(self, conn: WriteConn, message: str) -> None:
        raise NotImplementedError("the memory bus sends after the commit")

    def commit_notice(self, message: str) -> Notice:
        raise NotImplementedError("the memory bus sends after the commit")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self._broadcast.disconnect()


class PostgresBus:
    """LISTEN/NOTIFY on the event database (or the database of ``BROADCAST_URL``)."""

    name = "postgresql"

    def __init__(self, db: Database, url: str, check_seconds: float) -> None:
        self._db = db
        self._url = url
        # NOTIFY on the event database rides in the publishing transaction (delivered at
        # its commit): no connection checkout and round trips of its own after the commit.
        self._at_commit = asyncpg_dsn(url) == asyncpg_dsn(db.url)
        self._check = check_seconds
        self._listener: NotifyListener | None = None

    @property
    def connected(self) -> bool:
        return self._listener is not None and self._listener.connected

    async def start(self, on_message: OnMessage) -> None:
        def on_state(connected: bool, reconnect: bool) -> None:
            record_state(self.name, connected, reconnect)
            if connected:
                on_message("")  # read at once: something may have been missed meanwhile

        self._listener = NotifyListener(
            self._url,
            CHANNEL,
            on_message=on_message,
            on_state=on_state,
            check_seconds=self._check,
        )
        self._listener.start()
        # A refused first connection does not hold start-up: it is retried in the background.
        await wait_up(self._listener.attempted, self._check)

    async def publish(self, message: str) -> None:
        await notify(self._db, CHANNEL, message)

    @property
    def at_commit(self) -> bool:
        return self._at_commit

    async def stage(self, conn: WriteConn, message: str) -> None:
        await notify_at_commit(conn, CHANNEL, message)

    def commit_notice(self, message: str) -> Notice:
        return CHANNEL, message

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()


def create_bus(settings: Settings, db: Database) -> Bus:
    """The bus ``settings`` ask for (see ``Settings.broadcast_url``)."""
    url = settings.broadcast_url
    if url is None:
        url = settings.database_url if settings.is_postgres else "memory://"
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        from app.realtime.redis_bus import RedisBus

        return RedisBus(url, settings.bus_check_seconds, db)
    if url.startswith(("postgres://", "postgresql://", "postgresql+asyncpg://")):
        return PostgresBus(db, url, settings.bus_check_seconds)
    raise ValueError(f"unsupported broadcast URL scheme: {url.split(':', 1)[0]}")
