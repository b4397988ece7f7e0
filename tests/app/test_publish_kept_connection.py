"""On PostgreSQL the one-statement publish is sent by asyncpg on a write connection kept
checked out (``db/publish_connection.py``), past SQLAlchemy's checkout and execution."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event, text

from app.auth.principal import ADMIN
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from db.database import Database
from db.publish_connection import KEPT, PublishConnections
from tests.app.conftest import make_channel, make_workspace
from tests.fixtures.databases import terminate_backend


@pytest.fixture
async def kept(db: Database, dialect: str) -> PublishConnections:
    if dialect != "postgresql":
        pytest.skip("the one-statement publish is PostgreSQL's")
    await make_workspace(db, "ws")
    await make_channel(db, "orders")
    assert db.publish_connections is not None
    return db.publish_connections


async def _publish(db: Database, settings: Settings, n: int = 1) -> list[Any]:
    return await publish_events(
        db=db, settings=settings, principal=ADMIN, channel_id="orders",
        drafts=[EventDraft(type="t", data={"n": i}) for i in range(n)], delivery=Delivery(),
    )  # fmt: skip


async def _stored(db: Database) -> list[tuple[str, int]]:
    async with db.read() as conn:
        found = await conn.execute(text("SELECT id, seq FROM events ORDER BY seq"))
        return [(row.id, row.seq) for row in found]


def _sent(kept: PublishConnections, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    real = kept.fetchval

    async def fetchval(sql: str, args: Sequence[Any]) -> Any:
        sent.append(sql)
        return await real(sql, args)

    monkeypatch.setattr(kept, "fetchval", fetchval)
    return sent


async def test_publishes_are_sent_on_the_kept_connections(
    db: Database, settings: Settings, kept: PublishConnections, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _sent(kept, monkeypatch)
    published = [row for _ in range(3) for row in await _publish(db, settings, n=2)]
    concurrent = await asyncio.gather(*(_publish(db, settings) for _ in range(20)))
    published += [row for rows in concurrent for row in rows]
    assert len(sent) >= 4
    assert all("INSERT INTO events" in sql for sql in sent)
    stored = sorted(((row["id"], row["seq"]) for row in published), key=lambda pair: pair[1])
    assert await _stored(db) == stored
    pool: Any = db._publish_engine.pool  # type: ignore[union-attr]
    assert 1 <= pool.checkedout() <= KEPT  # kept between publishes
    await kept.close()
    assert pool.checkedout() == 0


async def test_a_kept_connection_seen_closed_is_replaced_before_anything_is_sent(
    db: Database, settings: Settings, kept: PublishConnections
) -> None:
    await _publish(db, settings)
    pid = await kept.fetchval("SELECT pg_backend_pid()", ())
    terminate_backend(pid)
    await asyncio.sleep(0.5)  # the event loop sees the socket close
    (row,) = await _publish(db, settings)
    assert [seq for _, seq in await _stored(db)] == [1, 2]
    assert row["seq"] == 2
    assert await kept.fetchval("SELECT pg_backend_pid()", ()) != pid


async def test_a_refused_statement_keeps_its_connection_and_stores_nothing(
    db: Database, settings: Settings, kept: PublishConnections
) -> None:
    await _publish(db, settings)
    pid = await kept.fetchval("SELECT pg_backend_pid()", ())
    with pytest.raises(Exception, match="division by zero"):
        await kept.fetchval("SELECT 1 / $1::int", (0,))
    assert await kept.fetchval("SELECT pg_backend_pid()", ()) == pid
    (row,) = await _publish(db, settings)
    assert row["seq"] == 2


async def test_a_publish_that_reads_nothing_takes_no_pooled_connection(
    db: Database, settings: Settings, kept: PublishConnections
) -> None:
    await _publish(db, settings)  # reads the channel (on a pooled connection) and keeps it
    checkouts: list[object] = []

    def checked_out(*_args: Any) -> None:
        checkouts.append(_args)

    pool = db._write_engine.sync_engine.pool
    event.listen(pool, "checkout", checked_out)
    try:
        for _ in range(3):
            await _publish(db, settings, n=2)
        await asyncio.gather(*(_publish(db, settings) for _ in range(10)))
    finally:
        event.remove(pool, "checkout", checked_out)
    assert checkouts == []
    assert len(await _stored(db)) == 1 + 3 * 2 + 10
