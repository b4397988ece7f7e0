"""Write connections kept checked out for the one-statement publish, sent by asyncpg.

A publish on PostgreSQL is one statement that commits on its own (``Database.run_alone``,
``event_writes.insert_parts_kept``), and this process has at most ``KEPT`` of them in flight
(``app/events/group_commit.py``). Through SQLAlchemy, the statement costs about 370-470 µs
of CPU: about 150 µs are the checkout and check-in around an executed statement (the
autocommit isolation level set and reset) and 70-110 µs SQLAlchemy's execution; asyncpg's
own ``fetchval`` of the same text and parameters on a connection that stays checked out
costs 130-160 µs (docs/benchmarks.md, "Runs of 2026-11-27 (evening)").

So up to ``KEPT`` connections are taken once from a pool of their own
(``engine.create_publish_engine``: publishes wait for their statement while holding write
connections, so a shared pool could run dry under them; warmed and rehearsed by
``Database.warm``) and kept; the statement's text, positional order and bind
processors are the ones SQLAlchemy compiled (``event_writes._driver_sql``). Failures keep
their meaning: a refusal is asyncpg's ``PostgresError`` (nothing stored), a lost connection
is dropped here (the next statement takes another; one whose asyncpg protocol refused
to start the statement is replaced, nothing having been sent) and leaves the ``db`` layer
as ``DatabaseUnavailable`` (``db/faults.py`` recognises asyncpg's errors), a statement timeout
as ``StatementTimeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import discard
from db.faults import is_lost_connection

KEPT = 2
"""Connections kept, and publish statements a process has in flight at once."""
_TRIES = 3


class PublishConnections:
    """The kept connections, each sending one statement at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._idle: list[AsyncConnection] = []
        self._slots = asyncio.Semaphore(KEPT)
        self._closing: set[asyncio.Task[None]] = set()

    async def fetchval(self, sql: str, args: Sequence[Any]) -> Any:
        """The first column of the first row of ``sql`` (committed on its own), or None."""
        async with self._slots:
            tries = 0
            while True:
                tries += 1
                conn = self._idle.pop() if self._idle else await self._engine.connect()
                sync = conn.sync_connection
                assert sync is not None  # connected
                driver: Any = sync.connection.driver_connection
                if driver.is_closed() and tries < _TRIES:
                    await discard(conn)  # its server went away; nothing was sent on it
                    continue
                try:
                    value = await driver.fetchval(sql, *args)
                except asyncio.CancelledError:
                    # Cancelled mid-statement: asyncpg's protocol state is unknown, drop it.
                    task = asyncio.create_task(discard(conn))
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
                    raise
                except asyncpg.exceptions.InternalClientError:
                    # Its protocol refused to start the statement (a backend terminated
                    # while the connection was kept answers so before its socket closes):
                    # nothing was sent, so another connection may send it.
                    await discard(conn)
                    if tries == _TRIES:
                        raise
                    continue
                except Exception as exc:
                    if is_lost_connection(exc) or driver.is_closed():
                        await discard(conn)
                    else:
                        self._idle.append(conn)
                    raise
                self._idle.append(conn)
                return value

    async def close(self) -> None:
        """Return the kept connections to the pool (before the pool is disposed)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.close()
        await asyncio.gather(*self._closing, return_exceptions=True)
