"""Server-Sent Events over a real ``eventgraph serve`` process and a streaming httpx client."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.databases import DatabaseFactory
from tests.fixtures.servers import Server, broadcast_env, start_servers
from tests.rest.conftest import ADMIN, World, bearer, build_world
from tests.rest.sse_client import Message, messages, take

pytestmark = pytest.mark.timeout(300)  # a server start takes a minute on a busy machine

EVENTS_STREAM = "/api/events/stream"


@pytest.fixture(scope="module")
def live_server(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """One served app on its own database for the module (starting one costs seconds),
    heartbeat every second."""
    url = database_factory.new_url()
    env = {**broadcast_env(request.config), "EVENTGRAPH_SSE_PING_SECONDS": "1"}
    (server,) = start_servers(url, tmp_path_factory.mktemp("sse"), 1, env)
    yield server
    server.stop()
    database_factory.drop(url)


@pytest.fixture(scope="module")
def world_tokens(live_server: Server) -> dict[str, str]:
    """The world of ``tests/rest/conftest.py``, built once per server; tests keep apart by
    event type."""

    async def build() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=live_server.base, timeout=30) as http:
            return (await build_world(Api(http, app=None))).tokens  # type: ignore[arg-type]

    return asyncio.run(build())


@pytest.fixture
async def served(live_server: Server, world_tokens: dict[str, str]) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=live_server.base, timeout=30) as http:
        yield World(Api(http, app=None), tokens=dict(world_tokens))  # type: ignore[arg-type]


@asynccontextmanager
async def stream(
    world: World,
    path: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[AsyncIterator[Message]]:
    """An open stream (status 200 checked); the connection is closed on exit."""
    async with world.api.http.stream(
        "GET", path, params=params, headers=headers if headers is not None else ADMIN
    ) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield messages(response)


async def commit_order(world: World, channel: str, type_: str) -> list[str]:
    """The ids of the channel's events of ``type_`` in commit order, from the polling feed."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", "type": type_, **({"cursor": cursor} if cursor else {})}
        body = (
            await world.api.http.get(f"/api/v1/channels/{channel}/events", params=params,
                                     headers=ADMIN)
        ).json()  # fmt: skip
        ids += [e["id"] for e in body["events"]]
        cursor = body["cursor"]
        if not body["has_more"]:
            return ids


async def test_live_events_matching_the_filter_arrive_in_commit_order(served: World) -> None:
    params = {"type": "a", "filter": json.dumps({"data": {"path": {"path": ["n"], "gt": 0}}})}
    async with stream(served, EVENTS_STREAM, params=params) as events:
        await served.publish("market", {"type": "a", "data": {"n": 1}})
        await served.publish("market", {"type": "b", "data": {"n": 2}})
        await served.publish("market", {"type": "a", "data": {"n": 0}})
        await served.publish_many(
            "market", [{"type": "a", "data": {"n": 3}}, {"type": "a", "data": {"n": 4}}]
        )
        got = await take(events, 3)
    assert [m.json()["data"]["n"] for m in got] == [1, 3, 4]
    assert all(m.event == "message" for m in got)
    first = got[0].json()
    assert set(first) >= {"id", "type", "channelId", "workspaceId", "data", "createdAt"}
    assert first["channelId"] == "market"
    assert all(m.id for m in got)
    assert len({m.id for m in got}) == 3


async def test_last_event_id_resumes_without_gap_or_duplicate_under_publishers(
    served: World,
) -> None:
    total, publishers = 240, 3

    async def publisher(k: int) -> None:
        for i in range(total // publishers):
            await served.publish("market", {"type": "load", "data": {"p": k, "i": i}})

    received: list[Message] = []
    running = asyncio.gather(*(publisher(k) for k in range(publishers)))
    try:
        async with stream(served, EVENTS_STREAM, params={"type": "load"}) as events:
            received += await take(events, 30)
        # The header, then the query parameter (for clients that cannot set headers).
        resume = {"Last-Event-ID": received[-1].id or "", **ADMIN}
        async with stream(served, EVENTS_STREAM, params={"type": "load"}, headers=resume) as ev:
            received += await take(ev, 70)
        params = {"type": "load", "lastEventId": received[-1].id or ""}
        async with stream(served, EVENTS_STREAM, params=params) as events:
            await running
            received += await take(events, total - len(received))
            # Nothing more: a duplicate would show up here.
            sentinel = await served.publish("market", {"type": "load", "data": {}})
            (last,) = await take(events, 1)
    finally:
        await running
    assert last.json()["id"] == sentinel["id"]
    ids = [m.json()["id"] for m in received]
    assert len(ids) == len(set(ids)) == total
    assert [*ids, sentinel["id"]] == await commit_order(served, "market", "load")


def channels(messages: list[Message]) -> list[str]:
    assert all(m.event == "message" for m in messages), messages
    return [m.json()["channelId"] for m in messages]


async def test_streams_respect_the_read_scope(served: World) -> None:
    reader, outsider = served.tokens["reader"], served.tokens["outsider"]
    async with (
        stream(served, EVENTS_STREAM, headers=bearer(reader)) as reader_events,
        stream(served, EVENTS_STREAM, headers=bearer(outsider)) as outsider_events,
        stream(served, "/api/v1/channels/market/events/stream", headers={}) as anonymous,
        stream(served, "/api/v1/channels/secret/events/stream", headers=bearer(reader)) as sec,
    ):
        for channel in ("secret", "elsewhere", "market"):
            await served.publish(channel, {"type": "t", "data": {"in": channel}})
        assert channels(await take(reader_events, 2)) == ["secret", "market"]
        assert channels(await take(outsider_events, 2)) == ["elsewhere", "market"]
        assert channels(await take(anonymous, 1)) == ["market"]
        assert channels(await take(sec, 1)) == ["secret"]


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "code", "error_path"),
    [
        (EVENTS_STREAM, {"filter": "{nope"}, ADMIN, 400, "BAD_USER_INPUT", "filter"),
        (EVENTS_STREAM, {"filter": '{"typo": {}}'}, ADMIN, 400, "BAD_USER_INPUT", None),
        (EVENTS_STREAM, {"since": "yesterday"}, ADMIN, 400, "BAD_USER_INPUT", "since"),
        (EVENTS_STREAM, {"snapshot": "1001"}, ADMIN, 400, "BAD_USER_INPUT", "snapshot"),
        (EVENTS_STREAM, {"snapshot": "2", "lastEventId": "x"}, ADMIN, 400, "BAD_USER_INPUT",
         "snapshot"),
        (EVENTS_STREAM, {"lastEventId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, ADMIN, 400,
         "BAD_USER_INPUT", None),
        (EVENTS_STREAM, {}, {}, 401, "UNAUTHENTICATED", None),
        (EVENTS_STREAM, {}, bearer("not-a-token"), 401, "UNAUTHENTICATED", None),
        ("/api/v1/channels/secret/events/stream", {}, {}, 401, "UNAUTHENTICATED", None),
        ("/api/v1/channels/nope/events/stream", {}, ADMIN, 404, "NOT_FOUND", "channelId"),
    ],
)  # fmt: skip
async def test_bad_requests_are_answered_before_the_stream_starts(
    served: World,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    code: str,
    error_path: str | None,
) -> None:
    response = await served.api.http.get(path, params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    if error_path is not None:
        assert error["path"] == error_path


async def test_a_snapshot_comes_first_then_live_events(served: World) -> None:
    first = await served.publish_many(
        "market", [{"type": "snap", "data": {"n": n}} for n in range(3)]
    )
    params = {"type": "snap", "snapshot": "2"}
    async with stream(served, "/api/v1/channels/market/events/stream", params=params) as events:
        snapshot = await take(events, 2)
        live = await served.publish("market", {"type": "snap", "data": {"n": 3}})
        (after,) = await take(events, 1)
    assert [m.id for m in snapshot] == [first[1]["id"], first[2]["id"]]
    assert after.id == live["id"]


async def test_a_private_channel_stream_refuses_a_token_of_another_scope(served: World) -> None:
    response = await served.api.http.get(
        "/api/v1/channels/secret/events/stream", headers=bearer(served.tokens["outsider"])
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_an_idle_stream_sends_heartbeats(served: World) -> None:
    async with (
        asyncio.timeout(5),
        stream(served, EVENTS_STREAM) as events,
    ):
        async for message in events:
            if message.comment is not None:
                break


async def test_replays_are_delivered_and_marked(served: World) -> None:
    async with stream(served, EVENTS_STREAM, params={"type": "r"}) as events:
        old = await served.publish("market", {"type": "r", "data": {"k": "old"}})
        mid = await served.publish("market", {"type": "r", "data": {"k": "mid"}})
        live = await take(events, 2)
        response = await served.api.http.post(
            "/v1/admin/events/replay", json={"eventIds": [old["id"]]}, headers=ADMIN
        )
        assert response.json()["replayed"] == 1
        # Taken before the next publish: a replay's order against events published at the
        # same time is not fixed (docs/realtime.md, "Replays").
        (replayed,) = await take(events, 1)
        new = await served.publish("market", {"type": "r", "data": {"k": "new"}})
        (live_new,) = await take(events, 1)
    assert [(m.event, m.id) for m in live] == [("message", old["id"]), ("message", mid["id"])]
    assert (replayed.event, replayed.json()["id"]) == ("replay", old["id"])
    assert (live_new.event, live_new.id) == ("message", new["id"])
    # A replay's id is the stream's position (the last live event), not the old event's:
    # resuming after it continues after `mid` instead of repeating it.
    assert replayed.id == mid["id"]
    resume = {"Last-Event-ID": replayed.id, **ADMIN}
    async with stream(served, EVENTS_STREAM, params={"type": "r"}, headers=resume) as events:
        (again,) = await take(events, 1)
    assert (again.event, again.json()["id"]) == ("message", new["id"])


async def test_a_stream_ends_when_its_token_is_revoked(served: World) -> None:
    response = await served.api.http.post(
        "/api/v1/tokens", json={"name": "short", "kind": "subscribe"}, headers=ADMIN
    )
    token_id, secret = response.json()["token"]["id"], response.json()["secret"]
    async with stream(served, EVENTS_STREAM, headers=bearer(secret)) as events:
        revoked = await served.api.http.delete(f"/api/v1/tokens/{token_id}", headers=ADMIN)
        assert revoked.status_code == 200
        (end,) = await take(events, 1)
        rest = [m async for m in events if m.comment is None]
    assert (end.event, end.json()["code"], end.id) == ("error", "UNAUTHENTICATED", None)
    assert rest == []


def sse_subscribers(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith('eventgraph_stream_subscribers{transport="sse"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def sse_subscribers_become(world: World, expected: float, seconds: float = 10) -> None:
    """Wait until the server's open SSE stream gauge shows ``expected``."""
    current = None
    for _ in range(int(seconds * 10)):
        current = sse_subscribers((await world.api.http.get("/metrics")).text)
        if current == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{current} SSE subscribers, expected {expected}")


async def test_clients_that_go_away_leave_no_subscriber_behind(
    served: World, live_server: Server
) -> None:
    host, port = "127.0.0.1", live_server.port
    request = (
        f"GET {EVENTS_STREAM}?type=gone HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {ADMIN_SECRET}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    async with stream(served, EVENTS_STREAM, params={"type": "gone"}):
        _, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        await writer.drain()
        await sse_subscribers_become(served, 2)
        # Killed without a goodbye: SO_LINGER 0 makes close() send a reset, not a FIN.
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        writer.transport.abort()
    await sse_subscribers_become(served, 0)
    # The server still streams to the next client.
    async with stream(served, EVENTS_STREAM, params={"type": "gone"}) as events:
        published = await served.publish("market", {"type": "gone", "data": {}})
        (got,) = await take(events, 1)
    assert got.json()["id"] == published["id"]


async def test_a_slow_consumer_is_ended_with_the_id_to_resume_after(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    pad = "x" * 60_000  # big events fill the socket buffers quickly
    total = 200
    env = {
        **broadcast_env(request.config),
        "EVENTGRAPH_STREAM_QUEUE_SIZE": "20",
        "EVENTGRAPH_SSE_SEND_TIMEOUT_SECONDS": "120",
    }
    (s,) = start_servers(database_url, tmp_path, 1, env)
    try:
        async with httpx.AsyncClient(base_url=s.base, timeout=60) as http:
            world = await build_world(Api(http, app=None))  # type: ignore[arg-type]
            params = {"type": "big"}
            async with stream(world, EVENTS_STREAM, params=params) as events:
                # Not reading: the server's sends block, its queue for us overflows.
                for first in range(0, total, 10):
                    batch = [{"type": "big", "data": {"i": i, "pad": pad}} for i in
                             range(first, first + 10)]  # fmt: skip
                    await world.publish_many("market", batch)
                received: list[Message] = []
                async with asyncio.timeout(60):
                    async for message in events:
                        if message.comment is None:
                            received.append(message)
                            if message.event == "error":
                                break
            error = received.pop()
            body = error.json()
            assert body["code"] == "SLOW_CONSUMER"
            assert 0 < len(received) < total
            assert body["resumeAfter"] == error.id == received[-1].json()["id"]
            resume = {"Last-Event-ID": body["resumeAfter"], **ADMIN}
            async with stream(world, EVENTS_STREAM, params=params, headers=resume) as events:
                received += await take(events, total - len(received), seconds=60)
            metrics = (await http.get("/metrics")).text
    finally:
        s.stop()
    assert [m.json()["data"]["i"] for m in received] == list(range(total))
    assert "eventgraph_stream_slow_consumer_disconnects_total 1.0" in metrics
