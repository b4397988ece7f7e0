"""The delivery log: pruning by age and status, and deliveries whose event was deleted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.events.retention import purge_before
from app.settings import Settings
from app.state import AppState
from app.webhooks.deliveries import prune_log
from app.webhooks.outcomes import EVENT_DELETED
from db.tables import attempts_table, events_table
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver, Reply
from tests.webhooks.test_retries import RETRY, UPDATE, settled


async def _attempt_rows(state: AppState) -> int:
    async with state.db.read() as conn:
        query = select(func.count()).select_from(attempts_table)
        return int((await conn.execute(query)).scalar_one())


async def _statuses(api: Api, webhook_id: str) -> list[str]:
    return sorted(d["status"] for d in await deliveries(api, webhook_id))


async def test_pruning_drops_old_succeeded_then_failed_never_pending(
    api: Api, receiver: Receiver, settings: Settings
) -> None:
    state: AppState = api.app.state.eventgraph
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": "ok"})
    await settled(api, webhook_id, 1)
    receiver.plan = [Reply(400)]
    await publish(api, "market", {"data": "refused"})
    await settled(api, webhook_id, 2)
    receiver.plan = [Reply(503, headers={"retry-after": "3600"})]
    await publish(api, "market", {"data": "later"})
    await receiver.wait_for(3)
    for _ in range(100):  # the 503 is logged and the delivery waits an hour
        log = await deliveries(api, webhook_id)
        if any(d["status"] == "pending" and d["attempts"] for d in log):
            break
        await asyncio.sleep(0.05)
    assert await _statuses(api, webhook_id) == ["failed", "pending", "succeeded"]
    assert await _attempt_rows(state) == 3

    assert await prune_log(db=state.db, settings=settings) == 0  # nothing is old yet
    day = timedelta(seconds=settings.webhook_log_retention) + timedelta(hours=1)
    assert await prune_log(db=state.db, settings=settings, now=datetime.now(UTC) + day) == 1
    assert await _statuses(api, webhook_id) == ["failed", "pending"]
    assert await _attempt_rows(state) == 2  # the succeeded delivery's attempt went with it

    month = timedelta(seconds=settings.webhook_failed_log_retention) + timedelta(hours=1)
    assert await prune_log(db=state.db, settings=settings, now=datetime.now(UTC) + month) == 1
    assert await _statuses(api, webhook_id) == ["pending"]
    assert await _attempt_rows(state) == 1


@pytest.mark.parametrize("by", ["deleteEvent", "retention"])
async def test_a_deleted_event_is_not_sent_and_its_delivery_fails(
    api: Api, receiver: Receiver, by: str
) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    [gone] = await publish(api, "market", {"data": 1})
    await asyncio.sleep(0.01)  # a later created_at: the retention cut-off falls between
    [kept] = await publish(api, "market", {"data": 2})
    for _ in range(100):  # queued (as skipped) while paused
        if await _statuses(api, webhook_id) == ["skipped", "skipped"]:
            break
        await asyncio.sleep(0.05)
    if by == "deleteEvent":
        await api.ok("mutation($id: ID!) { deleteEvent(id: $id) }", {"id": gone})
    else:  # the retention purge, with a cut-off between the two events
        state: AppState = api.app.state.eventgraph
        async with state.db.read() as conn:
            query = select(events_table.c.created_at).where(events_table.c.id == kept)
            cutoff = (await conn.execute(query)).scalar_one()
        await purge_before(db=state.db, before=cutoff)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": True}})
    assert (await api.ok(RETRY, {"w": webhook_id}))["retryWebhookDeliveries"] == 2
    [got] = await receiver.wait_for(1)
    assert got.json["data"]["id"] == kept
    log = {d["eventId"]: d for d in await settled(api, webhook_id, 2)}
    assert log[kept]["status"] == "succeeded"
    assert log[gone]["status"] == "failed"
    assert [(a["statusCode"], a["error"]) for a in log[gone]["attempts"]] == [(None, EVENT_DELETED)]
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1
