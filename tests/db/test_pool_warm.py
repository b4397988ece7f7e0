"""PostgreSQL pools open connections ahead of the first requests and keep what a burst
opened: a connection is never opened per request once the pool has it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from db.database import Database, ReadConn


@pytest.fixture
def pg(db: Database, dialect: str) -> Database:
    if dialect != "postgresql":
        pytest.skip("SQLite has no connection pool to warm")
    return db


def pooled(engine: AsyncEngine) -> int:
    count: int = engine.pool.checkedin()  # type: ignore[attr-defined]
    return count


async def test_warm_opens_connections_in_each_pool(pg: Database) -> None:
    await pg.warm(3)
    assert pooled(pg._read_engine) == 3
    assert pooled(pg._write_engine) == 3


async def test_warm_stops_at_each_pools_bound(database_url: str, dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite has no connection pool to warm")
    database = Database(database_url, pool_size=4)  # reads up to 6, writes up to 3
    try:
        await database.warm(100)
        assert pooled(database._read_engine) == 6
        assert pooled(database._write_engine) == 3
    finally:
        await database.dispose()


async def test_a_burst_keeps_the_connections_it_opened(pg: Database) -> None:
    """25 reads at once (more than ``db_pool_size``, within its 1.5x bound): all 25 stay
    pooled for the next burst instead of being closed when returned."""
    held = 0
    all_held, release = asyncio.Event(), asyncio.Event()

    async def hold(conn: ReadConn) -> None:
        nonlocal held
        held += 1
        if held == 25:
            all_held.set()
        await release.wait()

    tasks = [asyncio.create_task(pg.run_read(hold)) for _ in range(25)]
    await all_held.wait()
    release.set()
    await asyncio.gather(*tasks)
    assert pooled(pg._read_engine) == 25


async def test_warm_without_a_database_returns_quietly(dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite has no connection pool to warm")
    database = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        await asyncio.wait_for(database.warm(2), 10)
        assert pooled(database._read_engine) == 0
    finally:
        await database.dispose()


@asynccontextmanager
async def started(settings: Settings, dialect: str, warm: int) -> AsyncIterator[Database]:
    """An app started with ``warm`` connections to open per pool, once they are pooled
    (or after 5 s); its database."""
    if dialect != "postgresql":
        pytest.skip("SQLite has no connection pool to warm")
    app = create_app(settings.model_copy(update={"db_warm_connections": warm}))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        db: Database = app.state.eventgraph.db
        for _ in range(500):
            if pooled(db._write_engine) >= warm and pooled(db._read_engine) >= warm:
                break
            await asyncio.sleep(0.01)
        yield db


async def test_start_up_warms_the_pools_in_the_background(settings: Settings, dialect: str) -> None:
    async with started(settings, dialect, 5) as db:
        # At least: the hub and the webhook dispatcher may have opened one of their own.
        assert pooled(db._write_engine) >= 5
        assert pooled(db._read_engine) >= 5


async def test_requests_one_at_a_time_reuse_one_connection(pg: Database) -> None:
    """The pools hand out the connection returned last (LIFO): a process that is not busy
    keeps using the same few connections, whose server processes have their catalog and
    statements ready, instead of cycling through every pooled one (a fresh server process
    makes its first publish about 20 ms slower)."""
    await pg.warm(4)

    async def backend(conn: ReadConn) -> int:
        pid: int = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        return pid

    pids = {await pg.run_read(backend) for _ in range(6)}
    assert len(pids) == 1


async def test_start_up_rehearses_a_publish_on_each_write_connection(
    settings: Settings, dialect: str
) -> None:
    """Each warmed write connection has run the publish statements, of one row and of
    several (so its server process has them prepared, with the table's caches filled), in
    a transaction rolled back: nothing it wrote remains and no position was taken."""
    async with started(settings, dialect, 3) as db:
        held = pooled(db._write_engine)
        async with AsyncExitStack() as stack:
            conns = [
                await stack.enter_async_context(db._write_engine.connect()) for _ in range(held)
            ]
            prepared = [
                await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_prepared_statements"
                        # (split, or this statement would find itself)
                        " WHERE statement LIKE '%INSERT INTO ev' || 'ents%'"
                    )
                )
                for conn in conns
            ]
            # The hub and the webhook dispatcher may have opened one of their own.
            assert sum(1 for count in prepared if count == 2) >= 3, prepared
            left = await conns[0].scalar(
                text(
                    "SELECT (SELECT count(*) FROM workspaces)"
                    " + (SELECT count(*) FROM channels) + (SELECT count(*) FROM events)"
                    " + (SELECT last_seq FROM event_positions)"
                )
            )
            assert left == 0
