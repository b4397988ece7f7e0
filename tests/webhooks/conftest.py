"""Webhook fixtures: an app that may deliver to loopback, fast retries, a real receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from app.settings import Settings
from db.database import WriteConn
from db.repositories import webhooks as webhooks_repo
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.webhooks.receiver import Receiver, running_receiver


def webhook_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings of an app that may deliver to the test receiver, with ``overrides``."""
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_SECRET,  # type: ignore[arg-type]
        webhook_allow_private=True,  # the receiver is on 127.0.0.1
        **overrides,
    )


async def store_webhook(conn: WriteConn, webhook_id: str, now: datetime) -> None:
    """An enabled admin webhook row to an unused port, written straight to the table."""
    await webhooks_repo.insert_webhook(
        conn,
        {
            "id": webhook_id,
            "url": "http://127.0.0.1:9/",
            "enabled": True,
            "secret": "whsec_x",
            "scope": {"admin": True},
            "created_at": now,
            "updated_at": now,
        },
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(
        database_url, webhook_retry_base=0.05, webhook_poll_interval=0.05, webhook_timeout=2.0
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as r:
        yield r


CREATE = """mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url channelId filter enabled } }
}"""
PUBLISH = """mutation($c: ID!, $e: [EventInput!]!) {
  publishEvents(channelId: $c, events: $e) { id }
}"""
DELIVERIES = """query($id: ID!) { webhook(id: $id) { deliveries {
  id eventId type status attemptCount
  attempts { number statusCode error response latencyMs attemptedAt }
} } }"""


async def setup_world(api: Api) -> None:
    """Workspaces ``acme`` (public ``market``, private ``secret``), ``other`` (private
    ``elsewhere``)."""
    await api.ok('mutation { createWorkspace(input: {id: "acme", name: "Acme"}) { id } }')
    await api.ok('mutation { createWorkspace(input: {id: "other", name: "Other"}) { id } }')
    for channel, ws, private in (
        ("market", "acme", "false"),
        ("secret", "acme", "true"),
        ("elsewhere", "other", "true"),
    ):
        await api.ok(
            f'mutation {{ createChannel(input: {{id: "{channel}", name: "{channel}",'
            f' workspaceId: "{ws}", private: {private}}}) {{ id }} }}'
        )


async def create_webhook(
    api: Api, receiver: Receiver, *, token: str = ADMIN_SECRET, **input: Any
) -> tuple[str, str]:
    data = await api.ok(CREATE, {"input": {"url": receiver.url, **input}}, token=token)
    created = data["createWebhook"]
    receiver.secrets = [created["secret"]]
    return created["webhook"]["id"], created["secret"]


async def publish(api: Api, channel: str, *events: dict[str, Any]) -> list[str]:
    data = await api.ok(PUBLISH, {"c": channel, "e": list(events)})
    return [e["id"] for e in data["publishEvents"]]


async def deliveries(api: Api, webhook_id: str) -> list[dict[str, Any]]:
    data = await api.ok(DELIVERIES, {"id": webhook_id})
    result: list[dict[str, Any]] = data["webhook"]["deliveries"]
    return result
