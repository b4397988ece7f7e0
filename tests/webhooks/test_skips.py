"""What a paused webhook skips is one skipped range per (webhook, publish), not a row per event:
the log reads it as ``skipped`` deliveries, retrying sends exactly those events with the
ids the log showed, and pruning drops it like failed deliveries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.settings import Settings
from app.state import AppState
from app.webhooks.deliveries import prune_log
from db.tables import deliveries_table, ranges_table
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_retries import RETRY, UPDATE, settled


async def _rows(state: AppState) -> tuple[int, int]:
    """(delivery rows, range rows) in the database."""
    async with state.db.read() as conn:
        counted = []
        for table in (deliveries_table, ranges_table):
            query = select(func.count()).select_from(table)
            counted.append(int((await conn.execute(query)).scalar_one()))
    return counted[0], counted[1]


async def _skipped(api: Api, webhook_id: str, count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        log = await deliveries(api, webhook_id)
        if len(log) >= count:
            return log
        await asyncio.sleep(0.05)
    raise AssertionError(f"not queued: {log}")


async def test_paused_webhook_skips_compactly_and_retries_exactly_what_it_skipped(
    api: Api, receiver: Receiver
) -> None:
    state: AppState = api.app.state.eventgraph
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver, filter={"type": {"startsWith": "keep."}})
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    first = await publish(
        api,
        "market",
        {"type": "keep.a", "data": 0},
        {"type": "drop.b", "data": 1},
        {"type": "keep.c", "data": 2},
        {"type": "keep.d", "data": 3},
    )
    [last] = await publish(api, "market", {"type": "keep.e", "data": 4})
    log = await _skipped(api, webhook_id, 4)
    assert await _rows(state) == (0, 2)  # one range per publish, no delivery rows
    wanted = [last, first[3], first[2], first[0]]  # newest first, the filter applied
    assert [(d["eventId"], d["status"], d["attempts"]) for d in log] == [
        (event_id, "skipped", []) for event_id in wanted
    ]
    ids = {d["eventId"]: d["id"] for d in log}
    assert len(set(ids.values())) == 4

    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": True}})
    one = await api.ok(RETRY, {"w": webhook_id, "d": ids[first[2]]})
    assert one["retryWebhookDeliveries"] == 1
    [got] = await receiver.wait_for(1)
    assert (got.id, got.json["data"]["id"]) == (ids[first[2]], first[2])
    assert await _rows(state) == (3, 1)  # that publish's range became delivery rows

    rest = await api.ok(RETRY, {"w": webhook_id, "s": ["skipped"]})
    assert rest["retryWebhookDeliveries"] == 3
    got = await receiver.wait_for(4)
    assert {r.id: r.json["data"]["id"] for r in got} == {v: k for k, v in ids.items()}
    done = await settled(api, webhook_id, 4)
    assert {d["id"]: d["status"] for d in done} == dict.fromkeys(ids.values(), "succeeded")
    assert await _rows(state) == (4, 0)
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 4


async def test_skipped_ranges_are_pruned_with_failed_deliveries(
    api: Api, receiver: Receiver, settings: Settings
) -> None:
    state: AppState = api.app.state.eventgraph
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    await publish(api, "market", {"data": 1}, {"data": 2})
    await _skipped(api, webhook_id, 2)
    assert await prune_log(db=state.db, settings=settings) == 0  # nothing is old yet
    early = timedelta(seconds=settings.webhook_log_retention) + timedelta(hours=1)
    assert await prune_log(db=state.db, settings=settings, now=datetime.now(UTC) + early) == 0
    month = timedelta(seconds=settings.webhook_failed_log_retention) + timedelta(hours=1)
    assert await prune_log(db=state.db, settings=settings, now=datetime.now(UTC) + month) == 2
    assert await deliveries(api, webhook_id) == []
    assert await _rows(state) == (0, 0)
