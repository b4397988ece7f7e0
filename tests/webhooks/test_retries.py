"""Retries with backoff, Retry-After, permanent failures, 410, pause/delete and manual retry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from app.webhooks.outcomes import backoff_seconds, is_retryable
from app.webhooks.sender import retry_after_seconds
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver, Reply

RETRY = """mutation($w: ID!, $d: ID, $s: [WebhookDeliveryStatus!]) {
  retryWebhookDeliveries(webhookId: $w, deliveryId: $d, statuses: $s)
}"""
UPDATE = """mutation($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { enabled disabledReason }
}"""


async def settled(api: Api, webhook_id: str, count: int = 1) -> list[dict[str, object]]:
    """The deliveries once none is pending any more."""
    for _ in range(200):
        found = await deliveries(api, webhook_id)
        if len(found) >= count and all(d["status"] != "pending" for d in found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"deliveries still pending: {found}")


async def test_fails_twice_then_succeeds_with_one_webhook_id(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    receiver.plan = [Reply(500, body=b"boom"), Reply(503)]
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    got = await receiver.wait_for(3)
    [delivery] = await settled(api, webhook_id)
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 3  # acknowledged once: no send after the 200
    assert {r.id for r in got} == {delivery["id"]}
    assert len({r.body for r in got}) == 1
    assert delivery["status"] == "succeeded"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    assert delivery["attempts"][0]["response"] == "boom"


async def test_retry_after_is_honoured(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    receiver.plan = [Reply(429, headers={"retry-after": "1"})]
    await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    first, second = await receiver.wait_for(2)
    gap = float(second.headers["webhook-timestamp"]) - float(first.headers["webhook-timestamp"])
    assert gap >= 1  # the base delay is 0.05 s; only Retry-After explains a second


async def test_permanent_failure_then_retry_by_hand(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    receiver.plan = [Reply(400)]
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    [delivery] = await settled(api, webhook_id)
    assert delivery["status"] == "failed"
    assert delivery["attemptCount"] == 1
    retried = await api.ok(RETRY, {"w": webhook_id, "d": delivery["id"]})
    assert retried["retryWebhookDeliveries"] == 1
    first, second = await receiver.wait_for(2)
    assert first.id == second.id
    [delivery] = await settled(api, webhook_id)
    assert delivery["status"] == "succeeded"
    assert [a["statusCode"] for a in delivery["attempts"]] == [400, 200]


async def test_runs_out_of_attempts_and_stays_visible(api: Api, receiver: Receiver) -> None:
    api.app.state.eventgraph.settings.webhook_max_attempts = 3
    await setup_world(api)
    receiver.plan = [Reply(500)] * 5
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    [delivery] = await settled(api, webhook_id)
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == 3


async def test_gone_disables_the_webhook(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    receiver.plan = [Reply(410)]
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    await settled(api, webhook_id)
    data = await api.ok(
        "query($id: ID!) { webhook(id: $id) { enabled disabledReason } }", {"id": webhook_id}
    )
    assert data["webhook"] == {"enabled": False, "disabledReason": "receiver answered 410 Gone"}
    await publish(api, "market", {"data": 2})
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1


async def test_paused_webhook_skips_then_bulk_retry(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    paused = await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": False}})
    assert paused["updateWebhook"] == {"enabled": False, "disabledReason": "paused"}
    await publish(api, "market", {"data": 1}, {"data": 2})
    await asyncio.sleep(0.3)
    assert receiver.received == []
    assert {d["status"] for d in await deliveries(api, webhook_id)} == {"skipped"}
    await api.ok(UPDATE, {"id": webhook_id, "input": {"enabled": True}})
    retried = await api.ok(RETRY, {"w": webhook_id, "s": ["skipped"]})
    assert retried["retryWebhookDeliveries"] == 2
    got = await receiver.wait_for(2)
    assert sorted(r.json["data"]["data"] for r in got) == [1, 2]


async def test_deleted_webhook_stops_receiving(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    await receiver.wait_for(1)
    await api.ok("mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": webhook_id})
    await publish(api, "market", {"data": 2})
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1


async def test_slow_receiver_times_out_and_is_retried(api: Api, receiver: Receiver) -> None:
    api.app.state.eventgraph.settings.webhook_timeout = 0.3
    await setup_world(api)
    receiver.plan = [Reply(hang=True)]
    webhook_id, _ = await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    await receiver.wait_for(2)
    [delivery] = await settled(api, webhook_id)
    assert delivery["status"] == "succeeded"
    assert "timed out" in delivery["attempts"][0]["error"]


def test_backoff_doubles_with_jitter() -> None:
    for attempts, centre in ((1, 10), (2, 20), (3, 40), (6, 320)):
        delay = backoff_seconds(attempts, 10)
        assert centre * 0.75 <= delay <= centre * 1.25
    assert backoff_seconds(60, 10) == 24 * 3600


def test_which_statuses_retry() -> None:
    assert all(is_retryable(s) for s in (None, 408, 429, 500, 502, 503))
    assert not any(is_retryable(s) for s in (301, 400, 401, 404, 410, 422))


def test_retry_after_forms() -> None:
    now = datetime.now(UTC)
    assert retry_after_seconds("120", now=now) == 120
    when = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert 28 <= (retry_after_seconds(when, now=now) or 0) <= 31
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds("99999999", now=now) == 24 * 3600
