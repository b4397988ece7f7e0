"""Hot reads skip the pre-ping and retry once on a connection that turns out dead."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from sqlalchemy import text

from db.database import Database, ReadConn
from tests.fixtures.databases import PG_ADMIN_URL


async def _backend(conn: ReadConn) -> Any:
    return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_read_on_a_connection_that_died_unseen_is_run_again(
    db: Database, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    first = await db.run_read(_backend)
    # Blocking on purpose: the event loop does not run, so asyncpg cannot notice the
    # closed socket before the next checkout; only the failed statement tells.
    admin = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    subprocess.run(  # noqa: ASYNC221 - blocking is the point
        ["psql", admin, "-qAtc", f"SELECT pg_terminate_backend({first}); SELECT pg_sleep(0.3)"],
        check=True,
        capture_output=True,
    )
    second = await db.run_read(_backend)
    assert second != first
