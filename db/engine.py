"""Engines for both databases, configured once with the reasons written down."""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_

from db.faults import is_lost_connection
from db.query import semantics
from db.sqlite_threads import SqliteThreads


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(value: Any) -> Any:
    # SQLite gives a column declared JSON numeric affinity, so a top-level JSON number
    # ("1", "2.5") comes back as an int/float rather than text.
    if isinstance(value, int | float):
        return value
    return orjson.loads(value)


def _unicode_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


# SQLite calls the progress handler every this many virtual-machine instructions.
_PROGRESS_STEPS = 10_000
_CLOCK = "eventgraph_statement_clock"


class _StatementClock:
    """The deadline of the statement running on one SQLite connection (``None`` between
    statements, so COMMIT, ROLLBACK and pragmas are never interrupted)."""

    __slots__ = ("budget", "deadline")

    def __init__(self, budget_s: float) -> None:
        self.budget = budget_s
        self.deadline: float | None = None

    def interrupt(self) -> int:
        # Runs in aiosqlite's worker thread; a non-zero answer aborts the statement with
        # sqlite3.OperationalError("interrupted").
        deadline = self.deadline
        return 1 if deadline is not None and time.monotonic() > deadline else 0


def _install_sqlite_statement_timeout(engine: AsyncEngine, timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        clock = _StatementClock(timeout_ms / 1000)
        record.info[_CLOCK] = clock
        driver: Any = record.driver_connection  # the aiosqlite connection
        await_(driver.set_progress_handler(clock.interrupt, _PROGRESS_STEPS))

    def _clock(conn: Any) -> _StatementClock | None:
        clock: _StatementClock | None = conn.connection.info.get(_CLOCK)
        return clock

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(conn: Any, *_args: Any) -> None:
        if (clock := _clock(conn)) is not None:
            clock.deadline = time.monotonic() + clock.budget

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _stop(conn: Any, *_args: Any) -> None:
        if (clock := _clock(conn)) is not None:
            clock.deadline = None

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None and (clock := _clock(context.connection)):
            clock.deadline = None


def _open_through(engine: AsyncEngine, threads: SqliteThreads) -> None:
    """Open the engine's connections with ``threads.connect`` (db/sqlite_threads.py), and
    interrupt the statement of a cancelled task: aiosqlite does not stop the statement its
    thread runs, SQLAlchemy's close of the connection waits behind it, and a cancelled
    writer would hold the single write connection (and SQLite's write lock) until the
    statement ended by itself."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=threads.connect, **cparams)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _cancelled(context: Any) -> None:
        conn = context.connection
        if isinstance(context.original_exception, Exception) or conn is None or conn.invalidated:
            return  # only a cancellation (or another exit exception) while a statement runs
        driver: Any = conn.connection.driver_connection
        if driver is not None:
            await_(driver.interrupt())  # sqlite3_interrupt: safe from any thread


def _install_sqlite_pragmas(engine: AsyncEngine, *, immediate: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the single writer; busy_timeout makes a second
        # process wait for the write lock instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()
        # SQLite's lower() folds ASCII only; ilike needs Unicode lower-casing.
        dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
        # JSON filter operators run the very functions the in-memory evaluator uses.
        for name, nargs, func in (
            ("eg_json_contains", 2, semantics.sqlite_json_contains),
            ("eg_json_has_keys", 3, semantics.sqlite_json_has_keys),
            ("eg_json_path", 2, semantics.sqlite_json_path),
        ):
            dbapi_connection.create_function(name, nargs, func, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so two writers never deadlock on upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


CONNECT_TIMEOUT_S = 5.0


def create_engines(
    url: str,
    *,
    pool_size: int = 20,
    busy_timeout_ms: int = 5000,
    statement_timeout_ms: int = 0,
    sqlite_threads: SqliteThreads | None = None,
) -> tuple[AsyncEngine, AsyncEngine]:
    """Return ``(read_engine, write_engine)``; ``statement_timeout_ms`` > 0 bounds every
    statement (PostgreSQL ``statement_timeout``, SQLite's progress handler). SQLite
    connections are opened through ``sqlite_threads`` (a fresh one if not given), whose
    ``ended()`` waits for their worker threads after the engines are disposed."""
    if url.startswith("sqlite"):
        threads = sqlite_threads or SqliteThreads()
        read = create_async_engine(url, json_serializer=_json_dumps, json_deserializer=_json_loads)
        # One writer connection: SQLite allows a single writer, and queueing writers on
        # our own pool is cheaper and fairer than letting them spin on SQLITE_BUSY.
        write = create_async_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=_json_loads,
            pool_size=1,
            max_overflow=0,
            # Writers queue for the single connection; past this wait they get a 503 as well.
            pool_timeout=max(1.0, 2 * busy_timeout_ms / 1000),
        )
        _open_through(read, threads)
        _open_through(write, threads)
        _install_sqlite_pragmas(read, immediate=False, busy_timeout_ms=busy_timeout_ms)
        _install_sqlite_pragmas(write, immediate=True, busy_timeout_ms=busy_timeout_ms)
        if statement_timeout_ms > 0:
            _install_sqlite_statement_timeout(read, statement_timeout_ms)
            _install_sqlite_statement_timeout(write, statement_timeout_ms)
        return read, write
    common = _postgres_options(statement_timeout_ms)
    # A connection is opened when the load needs one and kept up to the pool's bound: no
    # "overflow" connections, which SQLAlchemy closes when they are returned, so a burst
    # would pay for opening them again each time (a connect, a TLS negotiation attempt and
    # type introspection: several ms of CPU each). Writers are fewer.
    # Reads run in autocommit: a single statement needs no BEGIN/ROLLBACK round trips.
    read = create_async_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size + pool_size // 2,
        max_overflow=0,
        # The connection returned last is handed out first: a process that is not busy
        # keeps using a few connections, whose server processes are warm.
        pool_use_lifo=True,
        **common,
    )
    _check_at_checkout(read)
    # A pooled connection whose server went away (restart, pg_terminate_backend) is
    # replaced at checkout instead of failing the request it was handed to: writes ping,
    # except ``Database.run_write`` (publishing), which retries instead.
    write = create_async_engine(
        url,
        pool_size=max(1, pool_size // 2 + pool_size // 4),
        max_overflow=0,
        pool_use_lifo=True,
        **common,
    )
    _check_at_checkout(write)
    _jsonb_as_text(read)
    _jsonb_as_text(write)
    return read, write


def create_publish_engine(url: str, *, size: int, statement_timeout_ms: int = 0) -> AsyncEngine:
    """PostgreSQL: the engine of the connections ``db/publish_connection.py`` keeps, a pool
    of its own (``size``) so that publishes holding every write connection while they
    wait for their statement never keep the statement from a connection."""
    engine = create_async_engine(
        url,
        pool_size=size,
        max_overflow=0,
        pool_use_lifo=True,
        **_postgres_options(statement_timeout_ms),
    )
    _check_at_checkout(engine)
    _jsonb_as_text(engine)
    return engine


def _postgres_options(statement_timeout_ms: int) -> dict[str, Any]:
    connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
    if statement_timeout_ms > 0:
        # Set when each connection opens: no SET round trip per statement or transaction.
        connect_args["server_settings"] = {"statement_timeout": str(int(statement_timeout_ms))}
    return {
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
        # An unreachable server fails the request (503) instead of holding it for 60 s.
        "connect_args": connect_args,
    }


def _jsonb_as_text(engine: AsyncEngine) -> None:
    """jsonb in asyncpg's text format, decoded by ``orjson.loads`` itself: the same text
    (PostgreSQL's binary jsonb is a version byte before it) and the same decoder as
    SQLAlchemy's codec, without its Python wrapper (a call, a slice and a ``decode`` per
    value: about two thirds of the decoding time of a page). Bound values arrive already
    serialized by ``json_serializer``. Runs after the dialect's own ``connect`` setup,
    which it replaces."""

    @event.listens_for(engine.sync_engine, "connect")
    def _codec(_dbapi: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        driver: Any = record.driver_connection  # the asyncpg connection
        await_(
            driver.set_type_codec(
                "jsonb", encoder=str, decoder=orjson.loads, schema="pg_catalog", format="text"
            )
        )


def statements_watched(dispatch: Any) -> bool:
    """Whether ``before/after_cursor_execute`` listeners watch the statements of an engine
    or connection (its ``dispatch``): a test counting them, the bench capturing them. Then
    statements go through SQLAlchemy, never past it with the driver, so they are seen."""
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


async def discard(conn: AsyncConnection) -> None:
    """Drop a connection kept checked out whose state is unknown (lost, cancelled
    mid-statement): invalidated, then returned."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
        await conn.close()


OPTIMISTIC: ContextVar[bool] = ContextVar("eventgraph_optimistic_checkout", default=False)
"""True while ``Database.run_read`` or ``run_write`` checks a connection out: no ping, a
retry instead."""


def _check_at_checkout(engine: AsyncEngine) -> None:
    """Pre-ping, except for ``run_read`` and ``run_write``: their work can simply be run
    again (a read; a write whose COMMIT was never sent), so they skip the round trip (a
    third of a cheap page's database time) and retry once when the connection turns out
    dead. A backend that was terminated or a server that restarted
    closes the socket, which asyncpg has usually seen by checkout: that check is free."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _lost(context: Any) -> None:
        # SQLAlchemy counts a failure as a disconnect only once asyncpg has seen the socket
        # close; count the earlier signs too, so the pool is discarded and a retry is fresh.
        if not context.is_disconnect and is_lost_connection(context.original_exception):
            context.is_disconnect = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        driver: Any = record.driver_connection  # the asyncpg connection
        if driver is None or driver.is_closed():
            raise DisconnectionError("the pooled connection was closed by the server")
        if driver.is_in_transaction() or getattr(driver, "_top_xact", None) is not None:
            # A task cancelled while asyncpg began a transaction can leave one open that
            # SQLAlchemy does not know of (sqlalchemy#13381, prefect#14728): handed out,
            # its next BEGIN fails or becomes a SAVEPOINT, and reads see an old snapshot.
            raise DisconnectionError("the pooled connection was left inside a transaction")
        if not OPTIMISTIC.get():
            try:
                dbapi.ping()
            except Exception as exc:  # any failure: replace the connection
                raise DisconnectionError("the pooled connection does not answer") from exc
