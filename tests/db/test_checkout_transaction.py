"""A pooled connection left inside a transaction (asyncpg began one that SQLAlchemy does
not know of, as a cancelled task can leave it) is replaced at checkout, never handed out:
``db/engine.py``'s checkout check. Without it the next read runs inside the stale
transaction (a plain read) or fails to begin its own (a snapshot read)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from db.database import Database, ReadConn


async def _backend(conn: ReadConn) -> int:
    return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _in_transaction(conn: ReadConn) -> bool:
    # now() is the transaction's start: inside a stale transaction it differs from
    # clock_timestamp() by at least the pause below.
    lag = (await conn.execute(text("SELECT clock_timestamp() - now()"))).scalar_one()
    return bool(lag.total_seconds() > 0.05)


@pytest.mark.parametrize("snapshot", [False, True])
async def test_a_connection_left_in_a_transaction_is_not_handed_out(
    database_url: str, dialect: str, snapshot: bool
) -> None:
    if dialect != "postgresql":
        pytest.skip("asyncpg's connections")
    database = Database(database_url, pool_size=2)  # one pooled read connection
    try:
        async with database.read() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.transaction().start()  # behind SQLAlchemy's back
            stale = await _backend(conn)
        await asyncio.sleep(0.1)
        assert await database.run_read(_backend, snapshot=snapshot) != stale
        assert not await database.run_read(_in_transaction, snapshot=snapshot)
    finally:
        await database.dispose()
