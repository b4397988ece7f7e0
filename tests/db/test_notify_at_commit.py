"""On the event database, the PostgreSQL bus sends a publish's wake-up with its commit."""

from __future__ import annotations

import asyncio

import pytest

from app.events.delivery import DeliveryKind
from app.realtime.bus import PostgresBus
from app.realtime.hub import Hub
from app.realtime.target import RealtimeTarget
from app.settings import Settings
from db.database import Database, WriteConn
from tests.fixtures.app import ADMIN_SECRET


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


async def test_a_publish_wakes_the_other_processes_through_its_own_transaction(
    db: Database, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY")
    settings = Settings(database_url=db.url, admin_token=ADMIN_SECRET)  # type: ignore[arg-type]
    received: asyncio.Queue[str] = asyncio.Queue()
    listener = PostgresBus(db, db.url, check_seconds=0.5)  # "another process"
    await listener.start(received.put_nowait)
    hub = Hub(db=db, bus=PostgresBus(db, db.url, check_seconds=0.5), settings=settings)
    try:
        assert await asyncio.wait_for(received.get(), 5) == ""

        async def publish(conn: WriteConn) -> None:
            await RealtimeTarget(hub).stage_wake(conn, DeliveryKind.PUBLISHED)

        await db.run_write(publish)
        assert (await asyncio.wait_for(received.get(), 5)).startswith("p ")
    finally:
        await listener.stop()
