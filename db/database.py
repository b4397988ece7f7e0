"""The ``Database``: short read connections and explicit write transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import NewType, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import OPTIMISTIC, create_engines, create_publish_engine, statements_watched
from db.faults import DatabaseBusy as DatabaseBusy
from db.faults import DatabaseUnavailable as DatabaseUnavailable
from db.faults import StatementTimeout as StatementTimeout
from db.faults import reraise
from db.kept_read import KeptRead
from db.publish_connection import KEPT, PublishConnections
from db.sqlite_threads import SqliteThreads

_WROTE: ContextVar[bool] = ContextVar("eventgraph_wrote", default=False)


def writing() -> None:
    """Called by a repository before it sends a write: ``run_alone`` must not repeat it."""
    _WROTE.set(True)


ReadConn = NewType("ReadConn", AsyncConnection)
WriteConn = NewType("WriteConn", AsyncConnection)
T = TypeVar("T")
ConnOnDemand = Callable[[], Awaitable[WriteConn]]
"""``Database.run_alone``'s connection: checked out by the first call, the same after."""


def at_hand(conn: WriteConn) -> ConnOnDemand:
    """``conn`` (already checked out) where a ``ConnOnDemand`` is expected."""

    async def given() -> WriteConn:
        return conn

    return given


class _OnDemand:
    """An autocommit write connection, checked out (without a ping) on the first call and
    returned when ``stack`` closes."""

    __slots__ = ("_conn", "_engine", "_stack")

    def __init__(self, engine: AsyncEngine, stack: AsyncExitStack) -> None:
        self._engine = engine
        self._stack = stack
        self._conn: WriteConn | None = None

    async def __call__(self) -> WriteConn:
        if self._conn is None:
            optimistic = OPTIMISTIC.set(True)
            try:
                conn = await self._stack.enter_async_context(self._engine.connect())
            finally:
                OPTIMISTIC.reset(optimistic)
            self._conn = WriteConn(await conn.execution_options(isolation_level="AUTOCOMMIT"))
        return self._conn


class Database:
    """Owns the engines. Repositories receive a ``ReadConn`` or ``WriteConn`` and never commit."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        busy_timeout_ms: int = 5000,
        statement_timeout_ms: int = 0,
    ) -> None:
        self.url = url
        self.dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        self._sqlite_threads = SqliteThreads()
        self._read_engine, self._write_engine = create_engines(
            url,
            pool_size=pool_size,
            busy_timeout_ms=busy_timeout_ms,
            statement_timeout_ms=statement_timeout_ms,
            sqlite_threads=self._sqlite_threads,
        )
        self._publish_engine = (
            create_publish_engine(url, size=KEPT, statement_timeout_ms=statement_timeout_ms)
            if self.dialect == "postgresql"
            else None
        )
        self.publish_connections = (
            PublishConnections(self._publish_engine) if self._publish_engine else None
        )
        """The one-statement publish's kept connections (PostgreSQL)."""

    @property
    def engine(self) -> AsyncEngine:
        return self._read_engine

    def kept_read(self) -> KeptRead | None:
        """A read connection for one task to keep and read on again and again
        (PostgreSQL; ``None`` on SQLite, where reads stay pooled)."""
        return KeptRead(self._read_engine) if self.dialect == "postgresql" else None

    @property
    def sql_dialect(self) -> Dialect:
        """SQLAlchemy's dialect of the engines, for statements the driver sends itself."""
        return self._write_engine.dialect

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ReadConn]:
        """A connection for reads; failures of the database raise ``DatabaseUnavailable``."""
        try:
            async with self._read_engine.connect() as conn:
                yield ReadConn(conn)
        except Exception as exc:
            reraise(exc)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[ReadConn]:
        """A read connection whose statements all see one snapshot: a read-only REPEATABLE
        READ transaction on PostgreSQL, one read transaction on SQLite (WAL)."""
        try:
            async with self._read_engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = await conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                async with conn.begin():
                    yield ReadConn(conn)
        except Exception as exc:
            reraise(exc)

    async def run_read(
        self, work: Callable[[ReadConn], Awaitable[T]], *, snapshot: bool = False
    ) -> T:
        """``work`` on a ``read()`` (or ``snapshot()``) connection, run once more on a fresh
        connection when its connection turns out to be lost. Pooled read connections are
        not pinged at checkout (``db/engine.py``); a backend that died unseen fails its
        first statement, SQLAlchemy then discards every connection pooled before it, and a
        read has no effect to repeat. A second failure is ``DatabaseUnavailable`` (503)."""
        for attempt in (1, 2):
            optimistic = OPTIMISTIC.set(True)
            try:
                async with self.snapshot() if snapshot else self.read() as conn:
                    OPTIMISTIC.reset(optimistic)
                    return await work(conn)
            except DatabaseUnavailable as exc:
                cause = exc.__cause__
                lost = isinstance(cause, DBAPIError) and cause.connection_invalidated
                if attempt == 2 or not lost:
                    raise
            finally:
                if OPTIMISTIC.get():
                    OPTIMISTIC.reset(optimistic)
        raise AssertionError("unreachable")

    async def run_write(self, work: Callable[[WriteConn], Awaitable[T]]) -> T:
        """``work`` in one transaction, committed on return; run once more on a fresh
        connection when the connection turns out lost before the COMMIT was sent. Like
        ``run_read`` it skips the checkout ping: a transaction whose connection is lost
        before its COMMIT never commits, so nothing ``work`` wrote can exist twice. A loss
        during the COMMIT, or a second failure, is ``DatabaseUnavailable`` (503): the
        commit may or may not have happened. ``work`` must have no effect outside the
        transaction."""
        for attempt in (1, 2):
            optimistic = OPTIMISTIC.set(True)
            committing = False
            try:
                async with self._write_engine.connect() as conn:
                    OPTIMISTIC.reset(optimistic)
                    async with conn.begin():
                        result = await work(WriteConn(conn))
                        committing = True
                    return result
            except Exception as exc:
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if attempt == 2 or committing or not lost:
                    reraise(exc)
            finally:
                if OPTIMISTIC.get():
                    OPTIMISTIC.reset(optimistic)
        raise AssertionError("unreachable")

    async def run_alone(self, work: Callable[[ConnOnDemand], Awaitable[T]]) -> T:
        """``work`` with a connection where each statement commits on its own (no BEGIN, no
        COMMIT round trip: a statement that takes a lock holds it only while the server
        runs and commits it), checked out when ``work`` first asks for it: a publish whose
        statement goes out on a kept connection (``publish_connections``) and reads nothing
        never takes one from the pool. Checked out without a ping; ``work`` runs once more
        on a fresh connection when its connection turns out lost before ``work`` sent a
        write (``writing()``). A loss after that is ``DatabaseUnavailable`` (503): the
        write may or may not have committed, as with a lost COMMIT."""
        for attempt in (1, 2):
            wrote = _WROTE.set(False)
            try:
                async with AsyncExitStack() as stack:
                    return await work(_OnDemand(self._write_engine, stack))
            except Exception as exc:
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if attempt == 2 or _WROTE.get() or not lost:
                    reraise(exc)
            finally:
                _WROTE.reset(wrote)
        raise AssertionError("unreachable")

    def statements_watched(self) -> bool:
        """Something watches the statements SQLAlchemy sends on the write engine (a test
        counting them, the bench capturing them): a publish then sends its statement
        through SQLAlchemy, not on a kept connection, so that it is seen."""
        return statements_watched(self._write_engine.sync_engine.dispatch)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        """Commit on exit, roll back on error; failures of the database raise
        ``DatabaseUnavailable`` (then the commit may or may not have happened)."""
        try:
            async with self._write_engine.begin() as conn:
                yield WriteConn(conn)
        except Exception as exc:
            reraise(exc)

    async def warm(
        self, count: int, *, rehearse: Callable[[WriteConn], Awaitable[None]] | None = None
    ) -> None:
        """Open up to ``count`` connections of each PostgreSQL pool at once and leave them
        pooled, so that the first requests after a start (or a burst of them) do not each
        open one; on each write connection, run ``rehearse`` in a transaction rolled back
        (a write's first run on a server process costs more: ``event_writes.rehearse_publish``),
        the kept publish connections' pool (``db/publish_connection.py``) included.
        A connection that cannot be opened, or whose rehearsal fails, is skipped: the pool
        opens it on first use, as it would have without this. No-op on SQLite."""
        if self.dialect != "postgresql" or count <= 0:
            return

        async def open_write(opened: AsyncExitStack, engine: AsyncEngine) -> None:
            conn = await opened.enter_async_context(engine.connect())
            if rehearse is not None:
                async with conn.begin() as transaction:
                    await rehearse(WriteConn(conn))
                    await transaction.rollback()

        # All held at once, so each is a new connection; closed (pooled) on leaving.
        async with AsyncExitStack() as opened:
            await asyncio.gather(
                *(
                    opened.enter_async_context(self._read_engine.connect())
                    for _ in range(min(count, _bound(self._read_engine)))
                ),
                *(
                    open_write(opened, self._write_engine)
                    for _ in range(min(count, _bound(self._write_engine)))
                ),
                *(
                    open_write(opened, engine)
                    for engine in [self._publish_engine] * KEPT
                    if engine is not None
                ),
                return_exceptions=True,  # e.g. the database is down: opened on first use
            )

    async def ping(self) -> bool:
        try:
            async with self._read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # readiness reports any failure as "not ready"
            return False
        return True

    def pool_status(self) -> tuple[int, int]:
        """(checked out, pool size) of the read pool, for metrics."""
        pool = self._read_engine.pool
        checked = getattr(pool, "checkedout", lambda: 0)()
        size = getattr(pool, "size", lambda: 0)()
        return int(checked), int(size)

    async def dispose(self) -> None:
        """Close the pooled connections; on SQLite, return only once their worker threads
        (and those of failed or terminated connections) have ended, so that none answers
        into an event loop closed after this (db/sqlite_threads.py)."""
        if self.publish_connections is not None:
            await self.publish_connections.close()
        if self._publish_engine is not None:
            await self._publish_engine.dispose()
        await self._read_engine.dispose()
        if self._write_engine is not self._read_engine:
            await self._write_engine.dispose()
        await self._sqlite_threads.ended()


def _bound(engine: AsyncEngine) -> int:
    size: int = engine.pool.size()  # type: ignore[attr-defined]  # QueuePool
    return size
