"""Concurrency, resume, lost bus connections and vanished clients, on real servers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from app.realtime.redis_bus import CLIENT_NAME as REDIS_CLIENT_NAME
from db.notify import LISTENER_NAME
from tests.fixtures.databases import PG_ADMIN_URL
from tests.fixtures.servers import Server, redis_url
from tests.realtime.client import (
    LEGACY_WS,
    TRANSPORT_WS,
    Subscription,
    make_channels,
    publish,
)

pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("servers")]

PUBLISHERS = 8
EVENTS_EACH = 1000
BATCH = 25


async def _channel(server: Server) -> str:
    ws = f"w{uuid.uuid4().hex[:10]}"
    await make_channels(server, ws, (f"{ws}-c", False))
    return f"{ws}-c"


async def _positions(server: Server, ids: list[str]) -> dict[str, int]:
    """``seq`` of each id, read from the servers' database (the test's only SQL)."""
    url = server.database_url
    found: dict[str, int] = {}
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1])
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, seq FROM events WHERE id IN ({marks})"  # noqa: S608
                found.update(dict(conn.execute(sql, chunk).fetchall()))
        finally:
            conn.close()
        return found
    pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await pg.fetch("SELECT id, seq FROM events WHERE id = ANY($1)", ids)
    finally:
        await pg.close()
    return {row["id"]: row["seq"] for row in rows}


async def test_eight_publishers_on_two_processes_and_a_subscriber_resuming_three_times(
    servers: list[Server],
) -> None:
    a = servers[0]
    channel = await _channel(a)
    flt = {"channelId": {"eq": channel}}
    published: list[str] = []
    done = asyncio.Event()

    async def publisher(n: int) -> None:
        server = servers[n % 2]
        for batch in range(EVENTS_EACH // BATCH):
            rows = await publish(
                server, channel, *({"data": {"p": n, "b": batch, "i": i}} for i in range(BATCH))
            )
            published.extend(row["id"] for row in rows)

    # An event before the subscription starts, so that a subscriber cut before its first
    # delivery has an id to resume after (resumeAfter is the id at its start).
    [start] = await publish(a, channel, {"data": {"start": True}})
    received: list[str] = []
    resumes = 0
    forced_resumes = 0
    sub = Subscription(a, {"f": flt})
    await sub.__aenter__()
    tasks = [asyncio.create_task(publisher(n)) for n in range(PUBLISHERS)]
    all_published = asyncio.gather(*tasks)
    all_published.add_done_callback(lambda _: done.set())
    total = PUBLISHERS * EVENTS_EACH
    try:
        while True:
            target = total if resumes >= 3 else (resumes + 1) * total // 5
            deadline = time.monotonic() + 300
            while len(received) + len(sub.items) < target and not sub.done.is_set():
                assert time.monotonic() < deadline, f"{len(received) + len(sub.items)} of {target}"
                await asyncio.sleep(0.02)
            await sub.__aexit__()
            received.extend(item["id"] for item in sub.items)
            if sub.error is not None:
                # Fell behind (SLOW_CONSUMER), or the connection dropped: resume all the same.
                if sub.error["extensions"].get("code") == "SLOW_CONSUMER":
                    last = received[-1] if received else start["id"]
                    assert sub.error["extensions"]["resumeAfter"] == last
                else:
                    assert not sub.error["extensions"], sub.error
                forced_resumes += 1
            elif len(received) >= total:
                break
            else:
                resumes += 1
            server = servers[(resumes + forced_resumes) % 2]
            protocol = LEGACY_WS if resumes % 2 else TRANSPORT_WS
            after = received[-1] if received else start["id"]
            sub = Subscription(server, {"f": flt, "a": after}, protocol=protocol)
            await sub.__aenter__()
    finally:
        await all_published
    assert resumes == 3
    assert len(received) == len(set(received)), "duplicates"
    assert set(received) == set(published)
    seqs = await _positions(a, received)
    order = [seqs[i] for i in received]
    assert order == sorted(order), "not in commit order"


async def test_a_lost_bus_connection_loses_nothing_and_is_reconnected(
    servers: list[Server], request: pytest.FixtureRequest, dialect: str
) -> None:
    backend = "redis" if request.config.getoption("--broadcast") == "redis" else dialect
    if backend == "sqlite":
        pytest.skip("the in-process memory bus has no connection to lose")
    a, b = servers
    channel = await _channel(a)
    before = a.metric("eventgraph_bus_reconnects_total")
    async with Subscription(a, {"f": {"channelId": {"eq": channel}}}) as sub:
        first = await publish(b, channel, *({"data": i} for i in range(5)))
        await sub.wait_for(5)
        assert await _kill_bus(backend, servers) >= 2
        second = await publish(b, channel, *({"data": i} for i in range(5, 10)))
        got = await sub.wait_for(10)
    assert [item["id"] for item in got] == [row["id"] for row in first + second]
    deadline = time.monotonic() + 30
    while a.metric("eventgraph_bus_reconnects_total") <= before:
        assert time.monotonic() < deadline, "the bus was not reconnected"
        await asyncio.sleep(0.2)
    async with httpx.AsyncClient(timeout=10) as http:
        ready = (await http.get(f"{a.base}/readyz")).json()
    assert ready == {"status": "ok", "database": "ok", "broadcast": "ok"}


async def _kill_bus(backend: str, servers: list[Server]) -> int:
    """Kill the servers' bus connections (and only theirs); how many were killed."""
    if backend == "redis":
        names = {f"{REDIS_CLIENT_NAME}-{server.process.pid}" for server in servers}
        killer = Redis.from_url(redis_url())
        try:
            ids = [c["id"] for c in await killer.client_list() if c.get("name") in names]
            for client_id in ids:
                await killer.client_kill_filter(_id=client_id)
        finally:
            await killer.aclose()
        return len(ids)
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = $2",
            LISTENER_NAME,
            servers[0].database_url.rsplit("/", 1)[1],
        )
    finally:
        await admin.close()
    return killed


async def test_readyz_and_metrics_show_the_bus_down_until_it_reconnects(
    servers: list[Server], request: pytest.FixtureRequest, dialect: str
) -> None:
    backend = "redis" if request.config.getoption("--broadcast") == "redis" else dialect
    if backend == "sqlite":
        pytest.skip("the in-process memory bus has no connection to lose")
    a, _ = servers
    reconnects = a.metric("eventgraph_bus_reconnects_total")
    assert a.metric("eventgraph_bus_connected") == 1
    ready_down: object = None
    gauge_down = False
    async with httpx.AsyncClient(timeout=10) as http:
        # Kill the connection again and again (each reconnect is killed), until /readyz
        # and /metrics have been seen to report it.
        deadline = time.monotonic() + 60
        while ready_down is None or not gauge_down:
            assert time.monotonic() < deadline, ("bus never reported down", ready_down)
            await _kill_bus(backend, [a])
            response = await http.get(f"{a.base}/readyz")
            if response.status_code == 503:
                ready_down = response.json()
            gauge_down = gauge_down or a.metric("eventgraph_bus_connected") == 0
            await asyncio.sleep(0.05)
        assert ready_down == {"status": "unavailable", "database": "ok", "broadcast": "unavailable"}
        deadline = time.monotonic() + 30
        while (response := await http.get(f"{a.base}/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "the bus was not reconnected"
            await asyncio.sleep(0.2)
    assert response.json() == {"status": "ok", "database": "ok", "broadcast": "ok"}
    assert a.metric("eventgraph_bus_connected") == 1
    assert a.metric("eventgraph_bus_reconnects_total") > reconnects


CLIENT = """
import json, sys, time
from websockets.sync.client import connect
ws = connect(sys.argv[1], subprotocols=["graphql-transport-ws"])
ws.send(json.dumps({"type": "connection_init", "payload": {}}))
ws.recv()
ws.send(json.dumps({"id": "1", "type": "subscribe",
                    "payload": {"query": "subscription { events { id } }"}}))
print("subscribed", flush=True)
time.sleep(600)
"""


async def test_a_vanished_client_leaves_no_subscriber_behind(servers: list[Server]) -> None:
    a, _ = servers
    before = a.metric("eventgraph_stream_subscribers")
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, a.ws, stdout=subprocess.PIPE
    )
    try:
        assert client.stdout is not None
        line = await asyncio.wait_for(client.stdout.readline(), 60)
        assert line.strip() == b"subscribed"
        deadline = time.monotonic() + 30
        while a.metric("eventgraph_stream_subscribers") <= before:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        # Frozen: the socket stays open but nothing answers (no close frame, no pong).
        os.kill(client.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 90  # two ping intervals, on a loaded machine
        while a.metric("eventgraph_stream_subscribers") > before:
            assert time.monotonic() < deadline, "the vanished client's subscriber remains"
            await asyncio.sleep(0.2)
    finally:
        client.kill()
        await client.wait()
