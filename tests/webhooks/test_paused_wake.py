"""A publish wakes the dispatcher only while a webhook is enabled: outbox rows for paused
webhooks alone wait for its poll (many expanded in one pass), and a resume expands them
first, so what was published while paused stays skipped."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.settings import Settings
from app.state import AppState
from db.tables import outbox_table
from tests.fixtures.app import Api
from tests.webhooks.conftest import (
    create_webhook,
    deliveries,
    publish,
    setup_world,
    webhook_settings,
)
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_retries import UPDATE, settled


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(
        database_url,
        webhook_poll_interval=60.0,  # no poll during the test: only wake-ups expand
        webhook_timeout=2.0,
    )


async def _outbox_rows(state: AppState) -> int:
    async with state.db.read() as conn:
        query = select(func.count()).select_from(outbox_table)
        return int((await conn.execute(query)).scalar_one())


async def test_paused_only_publishes_wait_for_the_poll_and_a_resume_skips_them(
    api: Api, receiver: Receiver
) -> None:
    state: AppState = api.app.state.eventgraph
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    paused = [
        *await publish(api, "market", {"data": 1}),
        *await publish(api, "market", {"data": 2}),
    ]
    await asyncio.sleep(0.3)
    assert await _outbox_rows(state) == 2  # not woken: nothing expanded yet
    assert await deliveries(api, webhook_id) == []

    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": True}})
    assert await _outbox_rows(state) == 0  # the resume expanded them, as skipped
    log = await deliveries(api, webhook_id)
    assert sorted((d["eventId"], d["status"]) for d in log) == [(e, "skipped") for e in paused]

    [sent] = await publish(api, "market", {"data": 3})  # enabled: the publish wakes it
    [got] = await receiver.wait_for(1)
    assert got.json["data"]["id"] == sent
    done = await settled(api, webhook_id, 3)
    assert {(d["eventId"], d["status"]) for d in done} == {
        *((e, "skipped") for e in paused),
        (sent, "succeeded"),
    }
    await asyncio.sleep(0.2)
    assert len(receiver.received) == 1
