"""Anonymous GraphQL reads (public channels) and EVENTGRAPH_ALLOW_ANONYMOUS=false."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from tests.fixtures.app import ADMIN_SECRET, Api

ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
FAST = "{ events(first: 5) { nodes { id } } }"  # served by the fast path
GENERAL = "{ events(first: 5) { nodes { id ... on Event { type } } } }"  # by Strawberry


async def _public_event(api: Api) -> str:
    http = api.http
    r = await http.post("/api/v1/workspaces", json={"id": "acme", "name": "Acme"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    r = await http.post(
        "/api/v1/channels",
        json={"id": "news", "name": "News", "workspaceId": "acme", "private": False},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    r = await http.post("/api/v1/channels/news/events", json={"data": 1}, headers=ADMIN)
    assert r.status_code == 201, r.text
    event_id: str = r.json()["id"]
    return event_id


@pytest.fixture
async def closed_api(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_SECRET,  # type: ignore[arg-type]
        allow_anonymous=False,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, app)


async def test_anonymous_graphql_reads_public_events_by_default(api: Api) -> None:
    event_id = await _public_event(api)
    for query in (FAST, GENERAL):
        data = await api.ok(query, token=None)
        assert [node["id"] for node in data["events"]["nodes"]] == [event_id]
    rest = await api.http.get("/api/events")
    assert rest.status_code == 401  # seed 002: bearer auth required


async def test_allow_anonymous_false_requires_a_token_for_graphql(closed_api: Api) -> None:
    event_id = await _public_event(closed_api)
    for query in (FAST, GENERAL, "{ channels(first: 5) { nodes { id } } }"):
        assert await closed_api.error_code(query, token=None) == "UNAUTHENTICATED"
    body = await closed_api.graphql(FAST, token=None)
    assert "EVENTGRAPH_ALLOW_ANONYMOUS" in body["errors"][0]["message"]
    data = await closed_api.ok(FAST)
    assert [node["id"] for node in data["events"]["nodes"]] == [event_id]
    # The schema stays introspectable, so GraphiQL loads and shows it.
    schema = await closed_api.ok("{ __schema { queryType { name } } }", token=None)
    assert schema == {"__schema": {"queryType": {"name": "Query"}}}
    # The channel API keeps seed 003's contract: public channels are polled without a token.
    poll = await closed_api.http.get("/api/v1/channels/news/events")
    assert poll.status_code == 200
    assert [e["id"] for e in poll.json()["events"]] == [event_id]
