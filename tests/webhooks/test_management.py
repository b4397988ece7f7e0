"""Webhook management over GraphQL and REST: permissions, validation, partial updates,
the delivery log, the outbox's transaction and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from app.auth.principal import ADMIN
from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.publish import EventDraft, publish_events
from app.events.read import EventRow
from db.database import ConnOnDemand, WriteConn
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.webhooks.conftest import CREATE, create_webhook, deliveries, publish, setup_world
from tests.webhooks.receiver import Receiver

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}


async def token(api: Api, kind: str = "subscribe", channels: Sequence[str] = ("secret",)) -> str:
    data = await api.ok(
        "mutation($i: CreateTokenInput!) { createToken(input: $i) { secret } }",
        {"i": {"name": "t", "kind": kind, "channelIds": list(channels)}},
    )
    secret: str = data["createToken"]["secret"]
    return secret


async def test_permissions(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    mine = await token(api)
    other = await token(api)
    webhook_id, _ = await create_webhook(api, receiver, token=mine)
    assert await api.error_code(CREATE, {"input": {"url": receiver.url}}, token=None) == (
        "UNAUTHENTICATED"
    )
    assert await api.error_code("{ webhooks { id } }", token=mine) == "FORBIDDEN"
    one = "query($id: ID!) { webhook(id: $id) { id } }"
    assert (await api.ok(one, {"id": webhook_id}, token=mine))["webhook"]["id"] == webhook_id
    assert await api.error_code(one, {"id": webhook_id}, token=other) == "NOT_FOUND"
    delete = "mutation($id: ID!) { deleteWebhook(id: $id) }"
    assert await api.error_code(delete, {"id": webhook_id}, token=other) == "NOT_FOUND"
    assert (await api.ok(delete, {"id": webhook_id}, token=mine))["deleteWebhook"] == webhook_id
    rest = await api.http.get("/v1/admin/webhooks", headers={"Authorization": f"Bearer {mine}"})
    assert rest.status_code == 403
    assert (await api.http.get("/v1/admin/webhooks")).status_code == 401


async def test_revoked_creator_silences_the_webhook(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    data = await api.ok(
        'mutation { createToken(input: {name: "t", kind: subscribe}) { secret token { id } } }'
    )
    await create_webhook(api, receiver, token=data["createToken"]["secret"])
    await api.ok(
        "mutation($id: ID!) { revokeToken(id: $id) { id } }",
        {"id": data["createToken"]["token"]["id"]},
    )
    await asyncio.sleep(1.1)  # the webhook cache's TTL: token changes are not signalled
    await publish(api, "market", {"data": 1})
    await asyncio.sleep(0.3)
    assert receiver.received == []


@pytest.mark.parametrize(
    ("input", "path"),
    [
        ({"filter": {"type": {"eqq": "x"}}}, "input.filter.type.eqq"),
        ({"filter": {"createdAt": {"gt": "yesterday"}}}, "input.filter.createdAt.gt"),
        ({"channelId": "nope"}, "input.channelId"),
        ({"description": "x" * 1001}, "input.description"),
    ],
)
async def test_bad_input(api: Api, receiver: Receiver, input: dict[str, object], path: str) -> None:
    await setup_world(api)
    body = await api.graphql(CREATE, {"input": {"url": receiver.url, **input}})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert path in error["message"] or error["extensions"].get("path") == path, error


async def test_update_changes_only_given_fields(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(
        api, receiver, channelId="market", filter={"type": {"eq": "a"}}, description="d"
    )
    update = """mutation($id: ID!, $input: UpdateWebhookInput!) {
      updateWebhook(id: $id, input: $input) { url channelId filter description enabled } }"""
    data = await api.ok(update, {"id": webhook_id, "input": {"description": None}})
    assert data["updateWebhook"] == {
        "url": receiver.url,
        "channelId": "market",
        "filter": {"type": {"eq": "a"}},
        "description": None,
        "enabled": True,
    }
    data = await api.ok(update, {"id": webhook_id, "input": {"filter": None, "channelId": None}})
    assert data["updateWebhook"]["filter"] is None
    assert data["updateWebhook"]["channelId"] is None
    assert await api.error_code(update, {"id": webhook_id, "input": {"url": None}}) == (
        "BAD_USER_INPUT"
    )


async def test_rest_routes(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    created = await api.http.post(
        "/v1/admin/webhooks",
        json={"url": receiver.url, "filter": {"type": {"eq": "x"}}, "description": "d"},
        headers=ADMIN_HEADERS,
    )
    assert created.status_code == 201, created.text
    webhook = created.json()["webhook"]
    receiver.secrets = [created.json()["secret"]]
    base = f"/v1/admin/webhooks/{webhook['id']}"
    assert webhook["filter"] == {"type": {"eq": "x"}}
    patched = await api.http.patch(base, json={"description": "e"}, headers=ADMIN_HEADERS)
    assert patched.json()["description"] == "e"
    assert patched.json()["filter"] == {"type": {"eq": "x"}}
    await publish(api, "market", {"type": "x", "data": 1})
    await receiver.wait_for(1)
    for _ in range(100):
        logs = (await api.http.get(f"{base}/deliveries", headers=ADMIN_HEADERS)).json()
        if logs["deliveries"] and logs["deliveries"][0]["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    [delivery] = logs["deliveries"]
    assert delivery["type"] == "event.published"
    assert delivery["attempts"][0]["statusCode"] == 200
    bulk = await api.http.post(f"{base}/deliveries/retry", json={}, headers=ADMIN_HEADERS)
    assert bulk.json() == {"retried": 0}
    one = await api.http.post(f"{base}/deliveries/{delivery['id']}/retry", headers=ADMIN_HEADERS)
    assert one.status_code == 404  # it succeeded: nothing to retry
    rotated = await api.http.post(
        f"{base}/rotate-secret", json={"overlapSeconds": 0}, headers=ADMIN_HEADERS
    )
    assert rotated.json()["secret"].startswith("whsec_")
    for bad in ({"url": "x", "extra": 1}, {"url": "x", "filter": {"nope": {}}}, {}):
        response = await api.http.post("/v1/admin/webhooks", json=bad, headers=ADMIN_HEADERS)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    deleted = await api.http.delete(base, headers=ADMIN_HEADERS)
    assert deleted.status_code == 204
    assert (await api.http.get(base, headers=ADMIN_HEADERS)).status_code == 404


async def test_openapi_documents_the_routes(api: Api) -> None:
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    assert "/v1/admin/webhooks" in paths
    assert "/v1/admin/webhooks/{webhookId}/deliveries/{deliveryId}/retry" in paths
    assert "400" in paths["/v1/admin/webhooks"]["post"]["responses"]


class Refuses:
    async def stage_in_statement(self, conn: ConnOnDemand, channel: Any, rows: Any) -> Staging:
        return Staging.TRANSACTION

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        raise RuntimeError("refused")

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        raise AssertionError("never committed")


async def test_rolled_back_publish_leaves_no_delivery(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    webhook_id, _ = await create_webhook(api, receiver)
    state = api.app.state.eventgraph
    failing = Delivery((*state.delivery.targets, Refuses()))
    with pytest.raises(RuntimeError):
        await publish_events(
            db=state.db,
            settings=state.settings,
            principal=ADMIN,
            channel_id="market",
            drafts=[EventDraft(data=1)],
            delivery=failing,
        )
    await asyncio.sleep(0.3)
    assert receiver.received == []
    assert await deliveries(api, webhook_id) == []


async def test_metrics(api: Api, receiver: Receiver) -> None:
    await setup_world(api)
    await create_webhook(api, receiver)
    await publish(api, "market", {"data": 1})
    await receiver.wait_for(1)
    await asyncio.sleep(0.2)
    text = (await api.http.get("/metrics")).text
    for name in (
        "eventgraph_webhook_deliveries_attempted_total",
        "eventgraph_webhook_deliveries_succeeded_total",
        "eventgraph_webhook_deliveries_failed_total",
        "eventgraph_webhook_queue_depth",
        "eventgraph_webhook_oldest_pending_age_seconds",
    ):
        assert name in text
