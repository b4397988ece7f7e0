"""A read connection kept checked out by one task that reads again and again.

The realtime tail reads the events above its position each time another process
publishes (a bus wake-up), up to hundreds of times a second; a checkout and check-in of
a pooled connection per read (``Database.run_read``) costs about as much CPU as the read
itself. So the tail keeps one read connection (PostgreSQL; on SQLite every read is
pooled). Like ``run_read``, a read runs once more on a fresh connection when its
connection turns out lost; a connection that failed in any way, or whose read was
cancelled, is closed rather than kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import OPTIMISTIC, discard
from db.faults import reraise

if TYPE_CHECKING:
    from db.database import ReadConn

T = TypeVar("T")


class KeptRead:
    """One autocommit read connection of ``engine``, checked out at first use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._turn = asyncio.Lock()  # one statement at a time on the connection

    async def run(self, work: Callable[[ReadConn], Awaitable[T]]) -> T:
        """``work`` on the kept connection; failures of the database raise
        ``DatabaseUnavailable``, as from ``Database.run_read``."""
        async with self._turn:
            return await self._run(work)

    async def _run(self, work: Callable[[ReadConn], Awaitable[T]]) -> T:
        for attempt in (1, 2):
            try:
                conn = self._conn or await self._checkout()
                found = await work(cast("ReadConn", conn))
                if conn.in_transaction():  # SQLAlchemy's autobegin (autocommit: no round trip)
                    await conn.rollback()
                return found
            except Exception as exc:
                await self._discard()
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if attempt == 2 or not lost:
                    reraise(exc)
            except BaseException:  # cancelled mid-read: the driver's state is unknown
                await self._discard()
                raise
        raise AssertionError("unreachable")

    async def _checkout(self) -> AsyncConnection:
        optimistic = OPTIMISTIC.set(True)  # no ping: a lost connection is retried instead
        try:
            self._conn = await self._engine.connect()
        finally:
            OPTIMISTIC.reset(optimistic)
        return self._conn

    async def close(self) -> None:
        """Return the connection to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await discard(conn)
