"""A small world for REST tests, built through the REST management routes themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fixtures.app import ADMIN_SECRET, Api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_SECRET)


@dataclass
class World:
    """Workspace ``acme`` with public ``market`` and private ``secret`` channels, workspace
    ``other`` with private ``elsewhere``, and tokens (secrets) keyed by role."""

    api: Api
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, name: str, kind: str, **scope: Any) -> str:
        response = await self.api.http.post(
            "/api/v1/tokens", json={"name": name, "kind": kind, **scope}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        secret: str = response.json()["secret"]
        self.tokens[name] = secret
        return secret

    async def publish(
        self, channel: str, body: dict[str, Any], *, token: str | None = None
    ) -> dict[str, Any]:
        headers = bearer(token) if token else ADMIN
        response = await self.api.http.post(
            f"/api/v1/channels/{channel}/events", json=body, headers=headers
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def publish_many(
        self, channel: str, events: list[dict[str, Any]], *, token: str | None = None
    ) -> list[dict[str, Any]]:
        created: list[dict[str, Any]] = (
            await self.publish(channel, {"events": events}, token=token)
        )["events"]
        return created


@pytest.fixture
async def world(api: Api) -> World:
    return await build_world(api)


async def build_world(api: Api) -> World:
    """The world of ``World``'s docstring, created through ``api`` (in-process or served)."""
    w = World(api)
    for ws in ("acme", "other"):
        r = await api.http.post("/api/v1/workspaces", json={"id": ws, "name": ws}, headers=ADMIN)
        assert r.status_code == 201, r.text
    for channel, ws, private in (
        ("market", "acme", False),
        ("secret", "acme", True),
        ("elsewhere", "other", True),
    ):
        r = await api.http.post(
            "/api/v1/channels",
            json={"id": channel, "name": channel, "workspaceId": ws, "private": private},
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
    await w.token(
        "agent",
        "publish",
        channelIds=["market", "secret"],
        publisherId="agent-001",
        publisherName="Market Agent",
    )
    await w.token("other-agent", "publish", channelIds=["market"], publisherId="agent-002")
    await w.token("reader", "subscribe", channelIds=["secret"])
    await w.token("outsider", "subscribe", workspaceIds=["other"])
    return w
