"""The ``Database``: short read connections and explicit write transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NewType

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import create_engines, is_busy_error, is_timeout_error

ReadConn = NewType("ReadConn", AsyncConnection)
WriteConn = NewType("WriteConn", AsyncConnection)


class DatabaseBusy(Exception):
    """The database could not take the write lock in time; the client may retry."""


class StatementTimeout(Exception):
    """A statement ran past its time budget and was stopped by the database."""


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
        self._read_engine, self._write_engine = create_engines(
            url,
            pool_size=pool_size,
            busy_timeout_ms=busy_timeout_ms,
            statement_timeout_ms=statement_timeout_ms,
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._read_engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ReadConn]:
        try:
            async with self._read_engine.connect() as conn:
                yield ReadConn(conn)
        except DBAPIError as exc:
            _raise_known(exc)
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteConn]:
        """Commit on exit, roll back on error."""
        try:
            async with self._write_engine.begin() as conn:
                yield WriteConn(conn)
        except DBAPIError as exc:
            _raise_known(exc)
            raise
        except PoolTimeout as exc:
            # Writers queued behind a writer that is itself waiting for the lock.
            raise DatabaseBusy("no database connection became free in time") from exc

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
        await self._read_engine.dispose()
        if self._write_engine is not self._read_engine:
            await self._write_engine.dispose()


def _raise_known(exc: DBAPIError) -> None:
    """Re-raise the conditions clients are told about (503s) as our own exceptions."""
    if isinstance(exc, OperationalError) and is_busy_error(exc):
        raise DatabaseBusy(str(exc)) from exc
    if is_timeout_error(exc):
        raise StatementTimeout("the statement ran past its time budget") from exc
