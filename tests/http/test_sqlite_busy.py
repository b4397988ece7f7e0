"""A SQLite write lock held elsewhere is a retryable 503 / SERVICE_UNAVAILABLE, never a 500."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import make_channel, make_workspace

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}
PUBLISH = 'mutation { publishEvent(channelId: "c", event: {data: 1}) { id } }'


@pytest.fixture
async def quick_api(database_url: str, dialect: str) -> AsyncIterator[Api]:
    if dialect != "sqlite":
        pytest.skip("SQLite's single-writer lock; PostgreSQL has row locks instead")
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_SECRET,  # type: ignore[arg-type]
        sqlite_busy_timeout_ms=100,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield Api(http, app)


async def test_writes_behind_a_foreign_lock_are_retryable(
    quick_api: Api, database_url: str
) -> None:
    await make_workspace(quick_api, "w")
    await make_channel(quick_api, "c", "w")
    holder = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        rest = await quick_api.http.post(
            "/api/v1/channels/c/events", json={"data": 1}, headers=HEADERS
        )
        assert rest.status_code == 503, rest.text
        assert rest.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert rest.headers["retry-after"] == "1"
        graphql = await quick_api.http.post("/graphql", json={"query": PUBLISH}, headers=HEADERS)
        assert graphql.status_code == 503, graphql.text
        assert graphql.headers["retry-after"] == "1"
        assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    data = await quick_api.ok(PUBLISH)
    assert data["publishEvent"]["id"]
