"""Seeding through the public GraphQL API, shared by the GraphQL tests."""

from __future__ import annotations

from typing import Any

from tests.fixtures.app import Api

EVENT_FIELDS = (
    "id type channelId workspaceId subjectId userId parentId publisherId publisherName"
    " data meta createdAt"
)


async def make_workspace(api: Api, id: str, name: str | None = None) -> None:
    await api.ok(
        "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { id } }",
        {"i": {"id": id, "name": name or id}},
    )


async def make_channel(api: Api, id: str, workspace_id: str, *, private: bool = False) -> None:
    await api.ok(
        "mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }",
        {"i": {"id": id, "name": id, "workspaceId": workspace_id, "private": private}},
    )


async def make_token(api: Api, **fields: Any) -> str:
    data = await api.ok(
        "mutation($i: CreateTokenInput!) { createToken(input: $i) { secret token { id } } }",
        {"i": {"name": "t", **fields}},
    )
    secret: str = data["createToken"]["secret"]
    return secret


async def publish(api: Api, channel_id: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
    data = await api.ok(
        f"mutation($c: ID!, $e: [EventInput!]!) {{ publishEvents(channelId: $c, events: $e)"
        f" {{ {EVENT_FIELDS} }} }}",
        {"c": channel_id, "e": list(events)},
    )
    rows: list[dict[str, Any]] = data["publishEvents"]
    return rows


async def seed_basic(api: Api) -> None:
    """Workspace ``w`` with public channel ``pub`` and private channel ``priv``."""
    await make_workspace(api, "w")
    await make_channel(api, "pub", "w")
    await make_channel(api, "priv", "w", private=True)
