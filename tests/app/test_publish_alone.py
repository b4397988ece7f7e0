"""On PostgreSQL a publish whose delivery targets can stage within it is one statement that
commits on its own, with its wake-up notice: the position lock is never held across a
round trip to the server process, and the other processes still wake at its commit.
(Webhooks: tests/webhooks/test_one_statement.py.)"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from app.auth.principal import ADMIN
from app.events import channel_cache
from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.publish import EventDraft, publish_events
from app.realtime.bus import PostgresBus
from app.realtime.hub import Hub
from app.realtime.target import RealtimeTarget
from app.settings import Settings
from db.database import ConnOnDemand, Database, WriteConn
from tests.app.conftest import make_channel, make_workspace
from tests.fixtures.databases import terminate_backend


@pytest.fixture
async def channel(db: Database, dialect: str) -> str:
    if dialect != "postgresql":
        pytest.skip("the one-statement publish is PostgreSQL's")
    await make_workspace(db, "ws")
    return await make_channel(db, "orders")


def _position_lock_is_free(url: str) -> bool:
    """Whether another session can take the position lock right now (within 300 ms)."""
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    done = subprocess.run(
        [
            "psql",
            dsn,
            "-qAtc",
            "SET lock_timeout = '300ms';"
            " UPDATE event_positions SET last_seq = last_seq WHERE id = 1",
        ],
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


async def _publish_one(
    db: Database,
    settings: Settings,
    channel: str,
    delivery: Delivery,
    drafts: Sequence[EventDraft] = (EventDraft(type="t", data={"n": 1}),),
) -> list[Any]:
    return await publish_events(
        db=db,
        settings=settings,
        principal=ADMIN,
        channel_id=channel,
        drafts=drafts,
        delivery=delivery,
    )


@contextmanager
def statements_sent(
    db: Database, contains: str, probe: Callable[[], bool] = lambda: True
) -> Iterator[list[tuple[str, bool]]]:
    """Each statement containing ``contains`` this process sends in the block, with
    ``probe()`` run right after its answer arrived and before anything else is sent
    (blocking there stands for a busy event loop)."""
    seen: list[tuple[str, bool]] = []

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if contains in statement:
            seen.append((statement, probe()))

    engine = db._write_engine.sync_engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


class NeedsTransaction:
    """A target whose staging needs the stored rows (as a webhook with a relation filter)."""

    async def stage_in_statement(self, conn: ConnOnDemand, channel: Any, rows: Any) -> Staging:
        return Staging.TRANSACTION

    async def stage(self, conn: WriteConn, rows: Sequence[Any], kind: DeliveryKind) -> None:
        return None

    async def committed(
        self, rows: Sequence[Any], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        return None


@pytest.mark.parametrize(("targets", "free"), [((), True), ((NeedsTransaction(),), False)])
async def test_the_position_lock_is_not_held_after_the_insert_returns(
    db: Database, settings: Settings, channel: str, targets: tuple[Any, ...], free: bool
) -> None:
    lock_free = lambda: _position_lock_is_free(db.url)  # noqa: E731
    with statements_sent(db, "INSERT INTO events", lock_free) as seen:
        await _publish_one(db, settings, channel, Delivery(targets))
    assert [free for _, free in seen] == [free]


async def test_a_one_statement_publish_wakes_the_other_processes_at_its_commit(
    db: Database, settings: Settings, channel: str
) -> None:
    received: asyncio.Queue[str] = asyncio.Queue()
    listener = PostgresBus(db, db.url, check_seconds=0.5)  # "another process"
    await listener.start(received.put_nowait)
    hub = Hub(db=db, bus=PostgresBus(db, db.url, check_seconds=0.5), settings=settings)
    target = RealtimeTarget(hub)
    try:
        assert await asyncio.wait_for(received.get(), 5) == ""  # connected
        assert hub.wake_notice() is not None
        rows = await _publish_one(db, settings, channel, Delivery(wakes=(target,)))
        assert rows[0]["seq"] >= 1
        assert (await asyncio.wait_for(received.get(), 5)).startswith("p ")
    finally:
        await listener.stop()


async def test_a_lost_connection_before_the_write_runs_the_publish_again_once(
    db: Database, settings: Settings, channel: str
) -> None:
    async def backend(conn: ConnOnDemand) -> Any:
        return (await (await conn()).execute(text("SELECT pg_backend_pid()"))).scalar_one()

    channel_cache.forget(db, channel)  # the publish reads it: a statement before the write
    terminate_backend(await db.run_alone(backend))
    rows = await _publish_one(db, settings, channel, Delivery())
    async with db.read() as conn:
        stored = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
    assert stored == 1
    assert len(rows) == 1
