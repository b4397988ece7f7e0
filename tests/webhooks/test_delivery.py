"""Deliveries to a real receiver: payload, headers, signatures, filters and scope."""

from __future__ import annotations

import asyncio

import orjson

from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver


async def test_event_is_posted_signed_in_the_event_shape(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, secret = await create_webhook(api, receiver)
    assert secret.startswith("whsec_")
    [event_id] = await publish(api, "market", {"type": "price", "data": {"p": 1}, "userId": "u"})
    [got] = await receiver.wait_for(1)
    assert receiver.verified_by(got, secret)
    assert got.headers["content-type"] == "application/json"
    assert got.id.startswith("msg_")
    body = got.json
    assert body["type"] == "event.published"
    assert body["timestamp"].endswith("Z")
    assert body["data"]["id"] == event_id
    assert body["data"]["channelId"] == "market"
    assert body["data"]["userId"] == "u"
    assert body["data"]["data"] == {"p": 1}
    events = await api.ok(
        "query($id: ID!) { event(id: $id) { createdAt publisherName } }", {"id": event_id}
    )
    assert body["data"]["createdAt"] == events["event"]["createdAt"]
    await asyncio.sleep(0.2)
    [delivery] = await deliveries(api, webhook_id)
    assert delivery["id"] == got.id
    assert delivery["status"] == "succeeded"
    assert [a["statusCode"] for a in delivery["attempts"]] == [200]
    assert delivery["attempts"][0]["response"] == "ok"


async def test_filter_and_channel_select_events(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    await create_webhook(api, receiver, channelId="market", filter={"type": {"eq": "keep"}})
    await publish(api, "market", {"type": "drop", "data": 1}, {"type": "keep", "data": 2})
    await publish(api, "secret", {"type": "keep", "data": 3})
    await publish(api, "market", {"type": "keep", "data": 4})
    got = await receiver.wait_for(2)
    await asyncio.sleep(0.3)
    assert sorted(r.json["data"]["data"] for r in got) == [2, 4]


async def test_relation_filter_is_evaluated_in_sql(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    await create_webhook(api, receiver, filter={"channel": {"private": {"eq": True}}})
    await publish(api, "market", {"data": 1})
    await publish(api, "secret", {"data": 2})
    [got] = await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    assert got.json["data"]["data"] == 2
    assert len(receiver.received) == 1


async def test_channel_scoped_token_never_sees_other_private_channels(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    created = await api.ok(
        'mutation { createToken(input: {name: "r", kind: subscribe, channelIds: ["secret"]})'
        " { secret } }"
    )
    token = created["createToken"]["secret"]
    await create_webhook(api, receiver, token=token)
    await publish(api, "elsewhere", {"data": "hidden"})
    await publish(api, "secret", {"data": "mine"})
    await publish(api, "market", {"data": "public"})
    got = await receiver.wait_for(2)
    await asyncio.sleep(0.3)
    assert sorted(r.json["data"]["data"] for r in got) == ["mine", "public"]


async def test_batch_is_one_delivery_per_event_in_publish_order(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    await create_webhook(api, receiver)
    ids = await publish(api, "market", *({"data": i} for i in range(5)))
    got = await receiver.wait_for(5)
    assert sorted(r.json["data"]["id"] for r in got) == sorted(ids)
    assert len({r.id for r in got}) == 5


async def test_replay_arrives_as_event_replayed(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    [event_id] = await publish(api, "market", {"data": 1})
    await create_webhook(api, receiver)
    replay = "mutation($ids: [ID!]) { replayEvents(ids: $ids) { replayed } }"
    await api.ok(replay, {"ids": [event_id]})
    [got] = await receiver.wait_for(1)
    assert got.json["type"] == "event.replayed"
    assert got.json["data"]["id"] == event_id


async def test_a_new_webhook_sees_the_next_publish_at_once(api: Api, receiver: Receiver) -> None:
    """The process's webhook cache is reloaded after a change, not only after its TTL."""
    await setup_world(api)
    await publish(api, "market", {"data": "before"})  # loads the (empty) cache
    await create_webhook(api, receiver)
    await publish(api, "market", {"data": "after"})
    [got] = await receiver.wait_for(1)
    assert got.json["data"]["data"] == "after"


async def test_body_is_compact_json_and_the_same_bytes_are_signed(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    await create_webhook(api, receiver)
    await publish(api, "market", {"data": {"ü": "é"}})
    [got] = await receiver.wait_for(1)
    assert got.body == orjson.dumps(orjson.loads(got.body))
