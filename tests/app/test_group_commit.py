"""Group commit (PostgreSQL, app/events/group_commit.py): publishes that arrive while one
publish statement of the process is in flight go together in the next statement, each
with its own contiguous positions, its own outbox row, and its own failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
import pytest
from sqlalchemy import text

from app.errors import NotFound
from app.events import group_commit
from app.events.delivery import Delivery, DeliveryKind
from app.events.publish import EventDraft
from app.settings import Settings
from db.database import ConnOnDemand, Database, WriteConn
from db.repositories.event_writes import OutboxRow
from tests.app.conftest import make_channel, make_workspace
from tests.app.test_publish_alone import _publish_one, statements_sent


@pytest.fixture(autouse=True)
async def _world(db: Database, dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("the one-statement publish is PostgreSQL's")
    await make_workspace(db, "ws")
    for channel in ("orders", "other"):
        await make_channel(db, channel)


@asynccontextmanager
async def position_lock_held(db: Database) -> AsyncIterator[None]:
    """Another session holds the position lock until the block ends: the first publish
    statement waits in the server, and the publishes started meanwhile queue behind it."""
    conn = await asyncpg.connect(db.url.replace("postgresql+asyncpg", "postgresql"))
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("UPDATE event_positions SET last_seq = last_seq WHERE id = 1")
        yield
        await transaction.rollback()
    finally:
        await conn.close()


async def publish(
    db: Database, settings: Settings, channel: str, n: int, delivery: Delivery = Delivery()
) -> list[Any]:
    drafts = [EventDraft(type="t", data={"channel": channel, "i": i}) for i in range(n)]
    return await _publish_one(db, settings, channel, delivery, drafts)


async def queued(
    db: Database, settings: Settings, jobs: Sequence[tuple[str, int]], delivery: Delivery
) -> list[list[Any] | BaseException]:
    """``jobs`` (channel, events) published concurrently behind ``MAX_IN_FLIGHT`` one-event
    publishes that wait for the position lock; their results in order (the first ones'
    excluded)."""
    async with position_lock_held(db):
        first = [
            asyncio.create_task(publish(db, settings, "orders", 1, delivery))
            for _ in range(group_commit.MAX_IN_FLIGHT)
        ]
        await asyncio.sleep(0.3)
        tasks = [asyncio.create_task(publish(db, settings, c, n, delivery)) for c, n in jobs]
        await asyncio.sleep(0.3)
    await asyncio.gather(*first)
    return list(await asyncio.gather(*tasks, return_exceptions=True))


_QUEUED_STATEMENTS = (1, 2)
"""Statements the queued publishes go in: one, or two when both first statements return
before the member told to lead runs (the second return then tells the next one to lead,
and it finds the queue taken); never one each."""


async def stored(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        return {r[0]: int(r[1]) for r in await conn.execute(text("SELECT id, seq FROM events"))}


def check_own_rows(result: list[Any], channel: str, n: int) -> list[int]:
    assert [(r["data"]["channel"], r["data"]["i"]) for r in result] == [
        (channel, i) for i in range(n)
    ]
    seqs = [int(r["seq"]) for r in result]
    assert seqs == list(range(seqs[0], seqs[0] + n))  # contiguous, in batch order
    return seqs


async def test_queued_publishes_share_one_statement_with_their_own_positions(
    db: Database, settings: Settings
) -> None:
    await publish(db, settings, "orders", 1)  # the channel copies are held from here on
    await publish(db, settings, "other", 1)
    jobs = [("orders" if i % 2 else "other", i % 4 + 1) for i in range(10)]
    with statements_sent(db, "INSERT INTO events") as inserts:
        results = await queued(db, settings, jobs, Delivery())
    # The first publishes' (one each), then one (or two) for the ten queued behind them.
    assert len(inserts) - group_commit.MAX_IN_FLIGHT in _QUEUED_STATEMENTS
    seqs: list[int] = []
    for result, (channel, n) in zip(results, jobs, strict=True):
        assert not isinstance(result, BaseException)
        seqs += check_own_rows(result, channel, n)
    assert sorted(seqs) == list(range(min(seqs), min(seqs) + len(seqs)))
    in_db = await stored(db)
    for result in results:
        assert not isinstance(result, BaseException)
        assert all(in_db[r["id"]] == r["seq"] for r in result)


async def test_a_member_the_database_refuses_fails_alone(db: Database, settings: Settings) -> None:
    await make_channel(db, "gone")
    await publish(db, settings, "orders", 1)
    await publish(db, settings, "gone", 1)  # held copy of "gone" ...
    async with db.transaction() as conn:  # ... which another process then deletes
        await conn.execute(text("DELETE FROM events WHERE channel_id = 'gone'"))
        await conn.execute(text("DELETE FROM channels WHERE id = 'gone'"))
    jobs = [("orders", 2), ("gone", 1), ("orders", 3)]
    with statements_sent(db, "row_version") as channel_reads:
        results = await queued(db, settings, jobs, Delivery())
    assert len(channel_reads) == 1  # only "gone" finds its copy stale and reads it again
    assert isinstance(results[1], NotFound)
    for index in (0, 2):
        result = results[index]
        assert not isinstance(result, BaseException)
        check_own_rows(result, "orders", jobs[index][1])
    async with db.read() as conn:
        channels = (await conn.execute(text("SELECT channel_id FROM events"))).scalars().all()
    stored_orders = 1 + group_commit.MAX_IN_FLIGHT + 2 + 3  # nothing stored for "gone"
    assert sorted(channels) == ["orders"] * stored_orders


class Outbox:
    """A delivery target with an outbox row for every publish (as a webhook matched in
    memory): the statement writes it with the events' ids and positions."""

    async def stage_in_statement(self, conn: ConnOnDemand, channel: Any, rows: Any) -> OutboxRow:
        return OutboxRow(DeliveryKind.PUBLISHED.value, orjson.dumps([["hook", None]]).decode())

    async def stage(self, conn: WriteConn, rows: Sequence[Any], kind: DeliveryKind) -> None:
        raise AssertionError("a one-statement publish stages in its statement")

    async def committed(
        self, rows: Sequence[Any], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        return None


async def test_each_queued_publish_writes_its_own_outbox_row(
    db: Database, settings: Settings
) -> None:
    await publish(db, settings, "orders", 1)
    jobs = [("orders", n) for n in (3, 1, 2)]
    with statements_sent(db, "INSERT INTO events") as inserts:
        results = await queued(db, settings, jobs, Delivery((Outbox(),)))
    assert len(inserts) - group_commit.MAX_IN_FLIGHT in _QUEUED_STATEMENTS
    async with db.read() as conn:
        boxes = [
            orjson.loads(r[0])
            for r in await conn.execute(text("SELECT entries FROM webhook_outbox ORDER BY id"))
        ]
    # In position order, which need not be start order.
    assert len(boxes) == group_commit.MAX_IN_FLIGHT + len(jobs)
    assert all(box["hooks"] == [["hook", None]] for box in boxes)
    own = sorted([[r["id"], r["seq"]] for r in result] for result in results)  # type: ignore[union-attr]
    assert sorted(box["events"] for box in boxes[group_commit.MAX_IN_FLIGHT :]) == own
