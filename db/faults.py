"""Which database failures mean "unavailable, retry shortly" (→ 503): the one mapping.

``Database.read()`` and ``Database.transaction()`` pass every exception through
``as_unavailable``; what it recognises leaves the ``db`` layer as ``DatabaseUnavailable``
(logged here, at a bounded rate), everything else unchanged. A real bug (bad SQL, a
constraint) is never mapped: it stays a 500.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from typing import NoReturn

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger("eventgraph.db")

# PostgreSQL SQLSTATEs of a server that is going away or cannot take the connection:
# class 08 (connection exception), admin/crash shutdown, starting up, too many connections.
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "53300")


class DatabaseUnavailable(Exception):
    """The database cannot serve the request now (down, connection lost, no free
    connection); the client may retry. A write that failed this way may or may not have
    committed: retry it with the same ``Idempotency-Key``."""

    code = "SERVICE_UNAVAILABLE"


class DatabaseBusy(DatabaseUnavailable):
    """SQLite's write lock could not be taken in time."""


class StatementTimeout(DatabaseUnavailable):
    """A statement ran past its time budget and was stopped by the database (PostgreSQL
    ``statement_timeout``, SQLite's progress handler); answered as 503 ``QUERY_TIMEOUT``."""

    code = "QUERY_TIMEOUT"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_sqlite_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


# PostgreSQL's query_canceled: statement_timeout ran out.
_QUERY_CANCELED = "57014"


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc) == "interrupted"  # the progress handler stopped the statement
    return getattr(exc, "sqlstate", None) == _QUERY_CANCELED


def _is_lost_server(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return "unable to open database file" in str(exc)  # its directory or disk is gone
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True  # SQLAlchemy recognised a disconnect (and invalidated the pool)
    if isinstance(exc, OSError):
        return True  # refused, reset, unreachable, connect timeout
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    )


def is_lost_connection(exc: BaseException) -> bool:
    """The connection that raised ``exc`` cannot be used again: its server went away, or
    asyncpg's protocol is in an impossible state (a backend terminated while the
    connection was pooled answers the next statement that way before the socket closes)."""
    return any(
        _is_lost_server(cause) or isinstance(cause, asyncpg.exceptions.InternalClientError)
        for cause in _chain(exc)
    )


def _classify(exc: BaseException) -> DatabaseUnavailable | None:
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, PoolTimeout):
        return DatabaseUnavailable("no database connection became free in time")
    for cause in _chain(exc):
        if _is_sqlite_busy(cause):
            return DatabaseBusy("the database is busy")
        if _is_timeout(cause):
            return StatementTimeout(
                "the query ran past its time budget and was stopped; narrow the filter or page size"
            )
        if _is_lost_server(cause) or isinstance(cause, asyncpg.exceptions.InternalClientError):
            return DatabaseUnavailable("the database is unavailable")
    return None


class _Throttle:
    """At most one log line per ``interval`` seconds; the lines held back are counted."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = float("-inf")
        self._held_back = 0

    def log(self, mapped: DatabaseUnavailable, cause: BaseException) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._held_back += 1
            return
        held_back, self._held_back, self._last = self._held_back, 0, now
        logger.warning(
            "%s (%s: %s); %d more since the last line",
            mapped,
            type(cause).__name__,
            str(cause).splitlines()[0] if str(cause) else "",
            held_back,
        )


_throttle = _Throttle(interval=1.0)


def reraise(exc: Exception) -> NoReturn:
    """Raise ``exc`` as ``as_unavailable`` maps it (itself when it is not a database
    failure)."""
    mapped = as_unavailable(exc)
    if mapped is None or mapped is exc:
        raise exc
    raise mapped from exc


def as_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """``exc`` as a ``DatabaseUnavailable`` when it is one (logged), else ``None``."""
    mapped = _classify(exc)
    if mapped is not None and mapped is not exc:
        _throttle.log(mapped, exc)
    return mapped
