"""On the event database, the PostgreSQL bus sends a publish's wake-up with its commit."""

from __future__ import annotations

import asyncio

import pytest

from app.realtime.bus import PostgresBus
from db.database import Database, WriteConn


class RolledBack(Exception):
    pass


async def test_a_staged_message_arrives_at_the_commit_and_never_after_a_rollback(
    db: Database, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY")
    received: asyncio.Queue[str] = asyncio.Queue()
    bus = PostgresBus(db, db.url, check_seconds=0.5)
    await bus.start(received.put_nowait)
    try:
        assert bus.at_commit
        assert await asyncio.wait_for(received.get(), 5) == ""  # "connected: read now"

        async def rolled_back(conn: WriteConn) -> None:
            await bus.stage(conn, "rolled back")
            raise RolledBack

        with pytest.raises(RolledBack):
            await db.run_write(rolled_back)

        async def committed(conn: WriteConn) -> None:
            await bus.stage(conn, "committed")
            await asyncio.sleep(0.3)
            assert received.empty()  # not before the commit

        await db.run_write(committed)
        assert await asyncio.wait_for(received.get(), 5) == "committed"
    finally:
        await bus.stop()
