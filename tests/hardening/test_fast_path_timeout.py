"""A shortcut that meets a database failure once it has sent a statement answers it itself,
exactly as the general path would, instead of handing the request on to be run again (a
second statement budget spent, a second load on the database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.test_relations import count_statements
from tests.hardening.test_statement_timeout import HEAVY, _seed

AUTH = {"Authorization": f"Bearer {ADMIN_SECRET}"}
GRAPHQL: dict[str, Any] = {
    "query": "query($f: EventFilter) { events(filter: $f, first: 5) { nodes { id type } } }",
    "variables": {"f": HEAVY},
}
REST = {"filter": orjson.dumps(HEAVY).decode(), "limit": "5"}


@asynccontextmanager
async def _client(settings: Settings, *, fast: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"statement_timeout_ms": 1, "fast_paths": fast}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def _answer(http: httpx.AsyncClient, route: str) -> tuple[httpx.Response, int]:
    with count_statements() as statements:
        if route == "graphql":
            response = await http.post("/graphql", json=GRAPHQL, headers=AUTH)
        else:
            response = await http.get("/api/events", params=REST, headers=AUTH)
    return response, len(statements)


async def test_a_timeout_on_a_shortcut_is_answered_once_as_the_general_path_does(
    api: Api, settings: Settings
) -> None:
    await _seed(api)
    for route in ("graphql", "rest"):
        async with _client(settings, fast=False) as general:
            reference, general_statements = await _answer(general, route)
        async with _client(settings, fast=True) as fast:
            shortcut, fast_statements = await _answer(fast, route)
        assert reference.status_code == 503, reference.text
        code = "QUERY_TIMEOUT"
        assert code in reference.text
        assert (shortcut.status_code, shortcut.headers.get("retry-after")) == (503, "1")
        assert shortcut.headers["content-type"] == reference.headers["content-type"]
        assert shortcut.content == reference.content, (route, shortcut.text, reference.text)
        # Handed on, the request would run its statements on both paths. Under load the
        # general path can meet the 1 ms budget in its checkout ping, before any statement;
        # the shortcut (no ping) then reaches its one statement.
        budget = max(general_statements, 1)
        assert fast_statements <= budget, (route, fast_statements, general_statements)
