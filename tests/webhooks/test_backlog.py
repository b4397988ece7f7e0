"""A receiver that is down gets its backlog afterwards; redirects are not followed and a
response is read only up to a bound."""

from __future__ import annotations

import asyncio
import socket

from app.webhooks.sender import SNIPPET_CHARS
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver, Reply
from tests.webhooks.test_retries import UPDATE, settled


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there any more


async def test_a_receiver_that_was_down_gets_the_backlog(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"url": closed_port_url()}})
    ids = await publish(api, "market", *({"data": i} for i in range(5)))
    for _ in range(200):  # every delivery has failed at least once (connection refused)
        log = await deliveries(api, webhook_id)
        if len(log) == 5 and all(d["attempts"] for d in log):
            break
        await asyncio.sleep(0.05)
    assert all(d["status"] == "pending" for d in log)
    assert all(d["attempts"][0]["statusCode"] is None for d in log)
    await api.ok(UPDATE, {"id": webhook_id, "input": {"url": receiver.url}})  # back up
    got = await receiver.wait_for(5, seconds=30)
    assert sorted(r.json["data"]["id"] for r in got) == sorted(ids)
    log = await settled(api, webhook_id, 5)
    assert {d["status"] for d in log} == {"succeeded"}
    assert {d["id"] for d in log} == {r.id for r in got}  # the same webhook-id as queued


async def test_redirect_is_not_followed_and_the_response_is_bounded(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    receiver.plan = [
        Reply(302, headers={"location": receiver.url + "/elsewhere"}, body=b"x" * 100_000)
    ]
    await publish(api, "market", {"data": 1})
    [delivery] = await settled(api, webhook_id)
    assert delivery["status"] == "failed"  # a 3xx is final
    [attempt] = delivery["attempts"]
    assert attempt["statusCode"] == 302
    assert attempt["response"] == "x" * SNIPPET_CHARS
    await asyncio.sleep(0.3)
    assert [r.path for r in receiver.received] == ["/hook"]  # the Location was not requested
