"""Publishing writes skip the pre-ping and run again on a connection that turns out dead
before the COMMIT was sent; nothing is stored twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database, WriteConn
from tests.fixtures.databases import terminate_backend


async def _backend(conn: WriteConn) -> Any:
    return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_write_on_a_connection_that_died_unseen_is_run_again_once(
    db: Database, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    async with db.transaction() as conn:
        await conn.execute(text("CREATE TABLE write_retry (n int)"))
    first = await db.run_write(_backend)
    terminate_backend(first)
    runs: list[Any] = []

    async def insert(conn: WriteConn) -> Any:
        runs.append(None)
        await conn.execute(text("INSERT INTO write_retry VALUES (1)"))
        return await _backend(conn)

    second = await db.run_write(insert)
    assert second != first
    assert len(runs) == 2  # the first attempt failed on the dead connection
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM write_retry"))).scalar_one() == 1
