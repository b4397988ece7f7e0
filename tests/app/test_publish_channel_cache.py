"""The one-statement publish (PostgreSQL) keeps the channel it validated against per
process and lets the insert check, in the database, that the channel is still at that
row version: a copy another process made stale is never used to accept an event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text

from app.auth.principal import ADMIN
from app.channels.service import delete_channel, update_channel
from app.errors import BadInput, NotFound
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from db.database import Database, DatabaseUnavailable
from tests.app.conftest import make_channel, make_workspace
from tests.fixtures.databases import terminate_backend

SCHEMA = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}


@pytest.fixture
async def channel(db: Database, dialect: str) -> str:
    if dialect != "postgresql":
        pytest.skip("the channel cache belongs to the one-statement publish (PostgreSQL)")
    await make_workspace(db, "ws")
    return await make_channel(db, "orders")


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """Another process's view of the same database (its own engine and cache)."""
    database = Database(db.url)
    try:
        yield database
    finally:
        await database.dispose()


async def _publish(db: Database, settings: Settings, channel: str, **draft: Any) -> Any:
    drafts = [EventDraft(**({"type": "t", "data": {"n": 1}} | draft))]
    rows = await publish_events(
        db=db, settings=settings, principal=ADMIN, channel_id=channel, drafts=drafts,
        delivery=Delivery(),
    )  # fmt: skip
    return rows[0]


async def _seqs(db: Database) -> list[int]:
    async with db.read() as conn:
        return list((await conn.execute(text("SELECT seq FROM events ORDER BY seq"))).scalars())


async def _publish_is_one_insert(db: Database, settings: Settings, channel: str) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db._write_engine.sync_engine
    event.listen(engine, "after_cursor_execute", seen)
    try:
        await _publish(db, settings, channel)
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert len(statements) == 1
    assert "INSERT INTO events" in statements[0]


async def test_a_cached_channel_costs_no_read(
    db: Database, other: Database, settings: Settings, channel: str
) -> None:
    await _publish(other, settings, channel)  # reads and keeps the channel
    await _publish_is_one_insert(other, settings, channel)


async def test_a_channel_created_or_updated_here_is_kept_at_once(
    db: Database, settings: Settings, channel: str
) -> None:
    """The process that wrote the channel keeps it with its new row version: the first
    publish after a create (a client that sets up and publishes at once) reads nothing,
    and an update applies to the very next publish."""
    await _publish_is_one_insert(db, settings, channel)  # created by the fixture
    await update_channel(
        db=db, principal=ADMIN, id=channel, strict_types=True, schemas={"t": SCHEMA}
    )
    await _publish_is_one_insert(db, settings, channel)
    with pytest.raises(BadInput, match="accepts only the types it lists"):
        await _publish(db, settings, channel, type="free")
    assert await _seqs(db) == [1, 2]
    await delete_channel(db=db, principal=ADMIN, id=channel)
    with pytest.raises(NotFound):
        await _publish(db, settings, channel)


async def test_strict_types_set_by_another_process_apply_to_the_next_publish(
    db: Database, other: Database, settings: Settings, channel: str
) -> None:
    await _publish(db, settings, channel, type="free")  # the kept copy: not strict
    await update_channel(
        db=other, principal=ADMIN, id=channel, strict_types=True, schemas={"typed": SCHEMA}
    )
    with pytest.raises(BadInput, match="accepts only the types it lists"):
        await _publish(db, settings, channel, type="free")
    with pytest.raises(BadInput):
        await _publish(db, settings, channel, type="typed", data={"n": "not a number"})
    stored = await _publish(db, settings, channel, type="typed", data={"n": 2})
    assert await _seqs(db) == [1, stored["seq"]]


async def test_a_schema_relaxed_by_another_process_accepts_the_next_publish(
    db: Database, other: Database, settings: Settings, channel: str
) -> None:
    await update_channel(
        db=other, principal=ADMIN, id=channel, strict_types=True, schemas={"typed": SCHEMA}
    )
    await _publish(db, settings, channel, type="typed", data={"n": 1})  # keeps: strict
    await update_channel(db=other, principal=ADMIN, id=channel, strict_types=False)
    stored = await _publish(db, settings, channel, type="free")  # the copy would refuse it
    assert stored["type"] == "free"


async def test_a_stale_copy_reserves_no_position(
    db: Database, other: Database, settings: Settings, channel: str
) -> None:
    first = await _publish(db, settings, channel)
    await update_channel(db=other, principal=ADMIN, id=channel, name="Renamed")
    second = await _publish(db, settings, channel)  # stale copy, then read again
    third = await _publish(db, settings, channel)  # the new copy
    assert [first["seq"], second["seq"], third["seq"]] == [1, 2, 3]
    assert await _seqs(db) == [1, 2, 3]


async def test_a_channel_deleted_by_another_process_is_not_found(
    db: Database, other: Database, settings: Settings, channel: str
) -> None:
    await _publish(db, settings, channel)
    await delete_channel(db=other, principal=ADMIN, id=channel)
    with pytest.raises(NotFound):
        await _publish(db, settings, channel)
    await make_channel(other, channel, strict_types=True, schemas={"typed": SCHEMA})
    with pytest.raises(BadInput, match="accepts only the types it lists"):
        await _publish(db, settings, channel, type="free")


async def test_with_the_channel_held_a_connection_lost_unseen_is_a_503_storing_nothing(
    db: Database, settings: Settings, channel: str
) -> None:
    """The insert is the first statement, on a kept connection (db/publish_connection.py):
    a loss nothing could see before it was sent is the 503 (docs/faults.md), never a
    publish stored twice; the next publish succeeds."""
    await _publish(db, settings, channel)  # holds the channel now, and a kept connection
    assert db.publish_connections is not None
    terminate_backend(await db.publish_connections.fetchval("SELECT pg_backend_pid()", ()))
    with pytest.raises(DatabaseUnavailable):
        await _publish(db, settings, channel)
    assert await _seqs(db) == [1]
    assert (await _publish(db, settings, channel))["seq"] == 2
