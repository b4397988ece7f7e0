"""PostgreSQL LISTEN/NOTIFY for the realtime bus, on asyncpg directly.

broadcaster's PostgreSQL backend listens on one connection and never notices when it
dies (``pg_terminate_backend``, a restart, a half-open socket): its subscribers just stop
hearing anything. ``NotifyListener`` owns its connection, learns of a close from asyncpg's
termination callback, probes the connection with ``SELECT 1`` on a timer (a half-open
socket), and reconnects with capped exponential backoff, reporting every state change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy import bindparam, func, select

from db.database import Database, WriteConn

logger = logging.getLogger("eventgraph.realtime.bus")

MAX_BACKOFF_SECONDS = 5.0
LISTENER_NAME = "eventgraph-listen"  # application_name, to find it in pg_stat_activity
NOTIFY_LIMIT_BYTES = 7900  # PostgreSQL refuses payloads of 8000 bytes and more


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://`` / ``postgres://`` URL as a DSN asyncpg accepts."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


Notice = tuple[str, str]
"""(channel, payload) of a ``pg_notify`` that a write statement sends with its commit."""

_NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))


async def notify(db: Database, channel: str, payload: str) -> None:
    """``pg_notify`` on a pooled autocommit connection: sent at once, to every listener."""
    async with db.read() as conn:
        await conn.execute(_NOTIFY, {"channel": channel, "payload": payload})


async def notify_at_commit(conn: WriteConn, channel: str, payload: str) -> None:
    """``pg_notify`` inside the writing transaction: PostgreSQL delivers it when (and only
    if) the transaction commits, with no connection checkout of its own."""
    await conn.execute(_NOTIFY, {"channel": channel, "payload": payload})


class NotifyListener:
    """LISTEN ``channel`` on a connection of its own, re-established whenever it is lost.

    ``on_message`` gets each payload; ``on_state(connected, reconnect)`` is called on every
    change (``reconnect`` is True for a connection that replaces a lost one).
    """

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        on_message: Callable[[str], None],
        on_state: Callable[[bool, bool], None],
        check_seconds: float,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._channel = channel
        self._on_message = on_message
        self._on_state = on_state
        self._check = check_seconds
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        # Set once the first connection attempt has succeeded or failed.
        self.attempted = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="eventgraph-listen")

    async def stop(self) -> None:
        """Cancel the listener and wait for it; a cancellation of the caller is not
        swallowed (as app/tasks.cancel_and_wait)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await asyncio.wait([self._task])
            except asyncio.CancelledError:
                self._task.cancel()
                raise

    async def _run(self) -> None:
        delay = 0.1
        ever_connected = False
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(
                    self._dsn,
                    timeout=self._check * 5,
                    server_settings={"application_name": LISTENER_NAME},
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, event=lost: event.set())
                await conn.add_listener(self._channel, self._deliver)
                self.connected = True
                self._on_state(True, ever_connected)
                self.attempted.set()
                ever_connected, delay = True, 0.1
                await self._watch(conn, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure means "reconnect"
                logger.warning("LISTEN connection lost: %s", exc)
                self.attempted.set()
            finally:
                if conn is not None:
                    conn.terminate()
                if self.connected:
                    self.connected = False
                    self._on_state(False, False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _watch(self, conn: Any, lost: asyncio.Event) -> None:
        while not lost.is_set():
            with suppress(TimeoutError):
                async with asyncio.timeout(self._check):
                    await lost.wait()
            if not lost.is_set():
                async with asyncio.timeout(self._check * 2):
                    await conn.fetchval("SELECT 1")
        raise ConnectionError("the server closed the LISTEN connection")

    def _deliver(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_message(payload)
