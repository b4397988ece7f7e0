"""Paced expansion: past a webhook's window of pending delivery rows, what an outbox row
queues for it waits as one pending range, in order, counted by the queue metrics, shown
in the log, released as the window frees, and skipped by a pause."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import update

from app.auth.principal import ADMIN
from app.settings import Settings
from app.state import AppState
from app.webhooks.deliveries import list_deliveries, prune_log
from app.webhooks.expansion import expand_outbox, release_ranges
from db.database import Database
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_ranges as ranges_repo
from db.repositories import webhooks as repo
from db.tables import deliveries_table
from db.types import to_millis
from tests.fixtures.app import Api
from tests.webhooks.conftest import (
    create_webhook,
    publish,
    setup_world,
    store_webhook,
    webhook_settings,
)
from tests.webhooks.receiver import Receiver, Reply
from tests.webhooks.test_retries import settled

W = "W" * 26


async def _world(db: Database, now: datetime) -> None:
    """Webhook ``W`` and three outbox rows of 2, 2 and 1 events, a millisecond apart."""
    async with db.transaction() as conn:
        await store_webhook(conn, W, now)
        for n, events in enumerate(([["a", 1], ["b", 2]], [["c", 3], ["d", 4]], [["e", 5]])):
            await outbox_repo.queue_outbox(
                conn,
                kind="event.published",
                created_at=now + timedelta(milliseconds=n),
                entries=orjson.dumps({"events": events, "hooks": [[W, None]]}).decode(),
            )


async def _rows(db: Database) -> dict[str, str]:
    async with db.read() as conn:
        found = await repo.list_deliveries(conn, webhook_id=W, statuses=None, limit=99)
    return {r["event_id"]: r["id"] for r in found}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The dispatcher's: a window of 2, one request at a time (queue order)."""
    return webhook_settings(
        database_url, webhook_poll_interval=0.05, webhook_window=2, webhook_concurrency=1
    )


@pytest.mark.parametrize("window", [0, -1, 100_001, "many"])
def test_the_window_setting_is_validated(window: object) -> None:
    with pytest.raises(ValidationError, match="webhook_window"):
        Settings(webhook_window=window)


async def test_past_the_window_deliveries_wait_as_ranges_in_order(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = to_millis(datetime.now(UTC))
        await _world(db, now)
        assert await expand_outbox(db, window=3) == 3
        # The first row fits (2 of 3); the second does not, so the third waits behind it.
        assert set(await _rows(db)) == {"a", "b"}
        async with db.read() as conn:
            held = await ranges_repo.newest_ranges(conn, webhook_id=W, statuses=None, limit=9)
            assert [(r["status"], r["size"]) for r in held] == [("pending", 1), ("pending", 2)]
            assert await repo.queue_stats(conn) == [{"webhook_id": W, "depth": 5, "oldest": now}]
        log = await list_deliveries(db=db, principal=ADMIN, webhook_id=W)
        assert [(d.row["event_id"], d.row["status"]) for d in log] == [
            (e, "pending") for e in "edcba"
        ]
        shown = {d.row["event_id"]: d.row["id"] for d in log}

        assert await release_ranges(db, window=3) is True  # 2 of 3 used: not half free
        assert set(await _rows(db)) == {"a", "b"}
        async with db.transaction() as conn:  # the first two were delivered
            await conn.execute(update(deliveries_table).values(status="succeeded", finished_at=now))
        assert await release_ranges(db, window=3) is False
        assert await _rows(db) == shown  # the ids the log showed
        async with db.read() as conn:
            left = await ranges_repo.newest_ranges(conn, webhook_id=W, statuses=None, limit=9)
            assert left == []
    finally:
        await db.dispose()


async def test_a_pause_skips_waiting_ranges_and_pruning_keeps_pending_ones(
    database_url: str,
) -> None:
    db = Database(database_url)
    settings = Settings(database_url=database_url)
    try:
        now = to_millis(datetime.now(UTC))
        await _world(db, now)
        await expand_outbox(db, window=3)
        late = now + timedelta(seconds=settings.webhook_failed_log_retention + 3600)
        assert await prune_log(db=db, settings=settings, now=late) == 0  # pending: kept
        async with db.transaction() as conn:
            await repo.update_webhook(conn, W, {"enabled": False})
            await repo.skip_pending(conn, W, now=now)
        async with db.read() as conn:
            held = await ranges_repo.newest_ranges(conn, webhook_id=W, statuses=None, limit=9)
            assert {r["status"] for r in held} == {"skipped"}
            assert await repo.queue_stats(conn) == []
        assert await release_ranges(db, window=3) is False
        assert await prune_log(db=db, settings=settings, now=late) == 5
    finally:
        await db.dispose()


async def test_the_dispatcher_releases_waiting_ranges_as_the_window_frees_in_order(
    api: Api, receiver: Receiver
) -> None:
    """``EVENTGRAPH_WEBHOOK_WINDOW=2``: later publishes wait as ranges and are released in
    queue order (one request at a time, so they arrive in publish order)."""
    state: AppState = api.app.state.eventgraph
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    receiver.plan = [Reply(delay=1.5), Reply(delay=1.5)]  # the window stays full meanwhile
    published = []
    for n in range(4):
        published += await publish(api, "market", {"data": n}, {"data": n + 10})
    for _ in range(50):  # later publishes wait as ranges while the window is full
        async with state.db.read() as conn:
            waiting = await ranges_repo.newest_ranges(
                conn, webhook_id=webhook_id, statuses=None, limit=9
            )
        if waiting:
            break
        await asyncio.sleep(0.01)
    assert waiting
    assert {r["status"] for r in waiting} == {"pending"}
    got = await receiver.wait_for(8)
    assert [r.json["data"]["id"] for r in got] == published
    done = await settled(api, webhook_id, 8)
    assert {d["status"] for d in done} == {"succeeded"}
    assert len({d["id"] for d in done}) == 8
