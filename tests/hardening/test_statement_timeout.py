"""Every statement has a time budget: PostgreSQL ``statement_timeout``, SQLite's progress
handler. Past it the client gets 503 QUERY_TIMEOUT with Retry-After (REST and GraphQL)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from db.database import Database, StatementTimeout
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import make_channel, make_workspace, publish

SLOW = {
    "postgresql": "SELECT pg_sleep(3)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
    " WHERE x < 300000000) SELECT count(*) FROM c",
}


async def test_a_slow_statement_is_stopped_and_the_connection_reused(database_url: str) -> None:
    db = Database(database_url, statement_timeout_ms=200, pool_size=1)
    try:
        with pytest.raises(StatementTimeout):
            async with db.read() as conn:
                await conn.execute(text(SLOW[db.dialect]))
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        with pytest.raises(StatementTimeout):
            async with db.transaction() as wconn:
                await wconn.execute(text(SLOW[db.dialect]))
        async with db.transaction() as wconn:  # commits: the clock is off between statements
            assert (await wconn.execute(text("SELECT 2"))).scalar() == 2
    finally:
        await db.dispose()


async def test_without_a_budget_statements_run_to_the_end(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    quick = {
        "postgresql": "SELECT pg_sleep(0.3)",
        "sqlite": SLOW["sqlite"].replace("300000000", "2000000"),
    }
    try:
        async with db.read() as conn:
            await conn.execute(text(quick[db.dialect]))
    finally:
        await db.dispose()


HEAVY = {"OR": [{"type": {"ilike": f"%no-such-type-{i}%"}} for i in range(150)]}


async def _seed(api: Api) -> None:
    await make_workspace(api, "w")
    await make_channel(api, "c", "w")
    for batch in range(3):
        await publish(api, "c", *({"type": f"t{batch}-{i}", "data": {"i": i}} for i in range(1000)))


async def test_requests_past_the_budget_answer_503_query_timeout(
    api: Api, settings: Settings
) -> None:
    await _seed(api)
    tight = settings.model_copy(update={"statement_timeout_ms": 1})
    app = create_app(tight)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            auth = {"Authorization": f"Bearer {ADMIN_SECRET}"}
            body: dict[str, Any] = {
                "query": "query($f: EventFilter) { events(filter: $f, first: 5) { nodes { id } } }",
                "variables": {"f": HEAVY},
            }
            response = await http.post("/graphql", json=body, headers=auth)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TIMEOUT"

            params = {"filter": orjson.dumps(HEAVY).decode(), "limit": "5"}
            response = await http.get("/api/events", params=params, headers=auth)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.json()["error"]["code"] == "QUERY_TIMEOUT"
