"""A database that goes away is a 503 with ``Retry-After``, never a 500 or a reset socket.

The first test runs a real server process and terminates its PostgreSQL connections
(``pg_terminate_backend``) while keep-alive clients publish and read through it.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from tests.fixtures.app import ADMIN_SECRET
from tests.fixtures.databases import PG_ADMIN_URL
from tests.fixtures.server import served

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}
GRAPHQL_READ = {"query": "{ events(first: 5) { totalCount edges { node { id } } } }"}


async def _terminate_backends(database: str) -> int:
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        return len(
            await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        )
    finally:
        await conn.close()


async def _wait_gone(database: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        for _ in range(100):
            left = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                " AND pid <> pg_backend_pid()",
                database,
            )
            if left == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    await asyncio.sleep(0.2)


async def _one_request(http: httpx.AsyncClient, n: int) -> httpx.Response:
    match n % 3:
        case 0:
            return await http.post("/api/v1/channels/c/events", json={"data": n}, headers=HEADERS)
        case 1:
            return await http.get("/api/events?limit=5", headers=HEADERS)
        case _:
            return await http.post("/graphql", json=GRAPHQL_READ, headers=HEADERS)


async def _client_loop(
    http: httpx.AsyncClient, stop: asyncio.Event, seen: collections.Counter[str]
) -> None:
    counter = itertools.count()
    while not stop.is_set():
        response = await _one_request(http, next(counter))  # a reset raises here
        if response.status_code == 503:
            assert response.headers.get("retry-after") == "1", response.text
            body = response.json()
            codes = (
                [e["extensions"]["code"] for e in body["errors"]]
                if "errors" in body
                else [body["error"]["code"]]
            )
            assert codes == ["SERVICE_UNAVAILABLE"], body
        seen[str(response.status_code)] += 1


async def test_terminated_connections_are_503_or_success(
    database_url: str, dialect: str, tmp_path: Path
) -> None:
    if dialect != "postgresql":
        pytest.skip("terminates PostgreSQL backends")
    log_path = tmp_path / "server.log"
    with served(database_url, log_path, ready_path="/readyz", EVENTGRAPH_LOG_LEVEL="INFO") as base:
        limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
            for path, body in (
                ("/api/v1/workspaces", {"id": "w", "name": "w"}),
                ("/api/v1/channels", {"id": "c", "name": "c", "workspaceId": "w"}),
            ):
                created = await http.post(path, json=body, headers=HEADERS)
                assert created.status_code == 201, created.text
            database = database_url.rsplit("/", 1)[1]
            for n in range(3):
                await _one_request(http, n)  # every kind of request has pooled a connection
            # Idle pooled connections that died are replaced at checkout, not handed out.
            assert await _terminate_backends(database) > 0
            # Checkout replaces a connection whose socket asyncpg has seen closed: wait until
            # the backends are gone (pg_terminate_backend only signals them), then a beat
            # for the server's event loop to read the closes.
            await _wait_gone(database)
            for n in range(3):
                response = await _one_request(http, n)
                assert response.status_code in (200, 201), response.text
            seen: collections.Counter[str] = collections.Counter()
            stop = asyncio.Event()
            clients = [asyncio.create_task(_client_loop(http, stop, seen)) for _ in range(6)]
            terminated = 0
            started = time.monotonic()
            for _ in range(6):
                await asyncio.sleep(0.4)
                terminated += await _terminate_backends(database)
            stop.set()
            await asyncio.gather(*clients)
            elapsed = time.monotonic() - started
            assert terminated > 0
            assert set(seen) <= {"200", "201", "503"}, seen
            assert seen["200"] + seen["201"] > 0, seen
            # The pool recovers: the next requests all succeed, on the same keep-alive clients.
            for n in range(9):
                response = await _one_request(http, n)
                assert response.status_code in (200, 201), response.text
    log = log_path.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception in ASGI application" not in log, log[-3000:]
    warnings = [line for line in log.splitlines() if '"logger":"eventgraph.db"' in line]
    assert len(warnings) <= elapsed + 2, warnings  # one line a second at most
    print(f"answers while terminating {terminated} backends: {dict(seen)}")  # noqa: T201


def _settings(url: str) -> Settings:
    return Settings(database_url=url, admin_token=ADMIN_SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/refused",
        "sqlite+aiosqlite:///{tmp}/missing-directory/eventgraph.db",
    ],
    ids=["postgresql-refused", "sqlite-unopenable"],
)
async def test_an_unreachable_database_is_503_and_not_ready(url: str, tmp_path: Path) -> None:
    app = create_app(_settings(url.format(tmp=tmp_path)))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            responses: list[tuple[httpx.Response, Any]] = []
            for method, path, body in (
                ("GET", "/api/events", None),
                ("POST", "/api/v1/channels/c/events", {"data": 1}),
                ("POST", "/graphql", GRAPHQL_READ),
                ("POST", "/graphql", {"query": 'mutation { deleteEvent(id: "x") }'}),
            ):
                r = await http.request(method, path, json=body, headers=HEADERS)
                responses.append((r, orjson.loads(r.content)))
            for response, body in responses:
                assert response.status_code == 503, body
                assert response.headers["retry-after"] == "1"
                code = body["errors"][0]["extensions"]["code"] if "errors" in body else None
                assert (code or body["error"]["code"]) == "SERVICE_UNAVAILABLE", body
