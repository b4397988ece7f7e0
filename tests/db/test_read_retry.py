"""Hot reads skip the pre-ping and retry once on a connection that turns out dead."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database, ReadConn
from tests.fixtures.databases import terminate_backend


async def _backend(conn: ReadConn) -> Any:
    return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_read_on_a_connection_that_died_unseen_is_run_again(
    db: Database, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    first = await db.run_read(_backend)
    terminate_backend(first)  # blocking on purpose: only the failed statement tells
    second = await db.run_read(_backend)
    assert second != first
