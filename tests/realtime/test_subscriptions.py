"""Subscriptions over real WebSockets (gql), on two server processes sharing one database."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets

from tests.fixtures.servers import FAST_TIMERS, Server
from tests.realtime.client import (
    LEGACY_WS,
    PROTOCOLS,
    TRANSPORT_WS,
    Subscription,
    graphql,
    make_channels,
    make_token,
    publish,
)

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("servers")]


def _name() -> str:
    return uuid.uuid4().hex[:10]


async def _channels(server: Server, private: bool = False) -> tuple[str, str, str]:
    """A workspace with a public and a private channel: (workspace, public, private)."""
    ws = f"w{_name()}"
    await make_channels(server, ws, (f"{ws}-pub", False), (f"{ws}-priv", True))
    return ws, f"{ws}-pub", f"{ws}-priv"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_live_delivery_of_matching_events_only_across_processes(
    servers: list[Server], protocol: str
) -> None:
    a, b = servers
    _, pub, _ = await _channels(a)
    flt = {"channelId": {"eq": pub}, "type": {"eq": "keep"}}
    async with Subscription(a, {"f": flt}, protocol=protocol) as sub:
        await publish(b, pub, {"type": "keep", "data": 1}, {"type": "drop", "data": 2})
        await publish(a, pub, {"type": "keep", "data": 3})
        await publish(b, pub, {"type": "keep", "data": {"n": 4}})
        items = await sub.wait_for(3)
        assert [item["data"] for item in items] == [1, 3, {"n": 4}]
        assert not any(item["replayed"] for item in items)
        assert len(await sub.quiet(0.5)) == 3


# Plain and relation filters; the expected answer is the query engine's own.
FILTERS: list[dict[str, Any]] = [
    {"type": {"startsWith": "order."}},
    {"NOT": {"type": {"eq": "order.paid"}}},
    {"data": {"path": {"path": ["total"], "gt": 5}}},
    {"data": {"hasKey": "tags"}},
    {"OR": [{"userId": {"eq": "u1"}}, {"subjectId": {"isNull": False}}]},
    {"parent": {"type": {"eq": "order.created"}}},
    {"channel": {"private": {"eq": False}}},
    {"workspace": {"id": {"eq": "nope"}}},
]


async def test_generated_filters_agree_with_the_query_engine(servers: list[Server]) -> None:
    a, b = servers
    _, pub, priv = await _channels(a)
    [root] = await publish(a, pub, {"type": "order.created", "data": {"total": 1}})
    # A live subscription starts at its process's tail position; let both tails pass the
    # root (they read at least every poll interval), or it may arrive as a live event.
    await asyncio.sleep(4 * float(FAST_TIMERS["EVENTGRAPH_STREAM_POLL_SECONDS"]))
    base = {"channelId": {"in": [pub, priv]}}
    subs = [
        Subscription(a if n % 2 else b, {"f": {"AND": [base, f]}}) for n, f in enumerate(FILTERS)
    ]
    for sub in subs:
        await sub.__aenter__()
    try:
        published = await publish(
            b,
            pub,
            {"type": "order.paid", "data": {"total": 10}, "userId": "u1", "parentId": root["id"]},
            {"type": "order.created", "data": {"total": 3, "tags": []}, "subjectId": "s"},
            {"type": "misc", "data": [1], "parentId": root["id"]},
            {"data": {"total": 7}},
        )
        published += await publish(a, priv, {"type": "order.x", "data": {"total": 9}})
        ids = [row["id"] for row in published]
        for f, sub in zip(FILTERS, subs, strict=True):
            data = await graphql(
                a,
                "query($f: EventFilter, $i: [ID!]) { events(filter: $f, ids: $i, first: 100)"
                " { nodes { id } } }",
                {"f": f, "i": ids},
            )
            expected = {node["id"] for node in data["events"]["nodes"]}
            await sub.quiet(0.1)
            got = await sub.wait_for(len(expected))
            assert {item["id"] for item in got} == expected, f
            assert [item["id"] for item in got] == [i for i in ids if i in expected]
    finally:
        for sub in subs:
            await sub.__aexit__()


async def test_private_events_never_reach_a_subscriber_outside_its_scope(
    servers: list[Server],
) -> None:
    a, b = servers
    _, pub, priv = await _channels(a)
    _, _, other_priv = await _channels(a)
    other_secret, _ = await make_token(a, kind="subscribe", channelIds=[other_priv])
    own_secret, _ = await make_token(a, kind="subscribe", channelIds=[priv])
    anonymous = Subscription(a, token=None)
    outsider = Subscription(b, token=other_secret, via="payload")
    insider = Subscription(b, {"f": {"channelId": {"in": [pub, priv]}}}, token=own_secret)
    async with anonymous, outsider, insider:
        await publish(a, priv, {"data": "secret"})
        await publish(b, pub, {"data": "public"})
        await insider.wait_for(2)
        assert insider.error is None, insider.error
        await anonymous.wait_for(1)
        await asyncio.sleep(0.5)
        assert all(item["data"] != "secret" for item in anonymous.items + outsider.items)
        assert [item["data"] for item in insider.items] == ["secret", "public"]
        assert "public" in [item["data"] for item in anonymous.items]


async def test_snapshot_and_after_switch_to_live_while_publishing(servers: list[Server]) -> None:
    a, b = servers
    _, pub, _ = await _channels(a)
    flt = {"channelId": {"eq": pub}}
    first = await publish(a, pub, *({"data": i} for i in range(10)))
    stop = asyncio.Event()
    published: list[str] = [row["id"] for row in first]

    async def publisher() -> None:
        n = 10
        while not stop.is_set():
            rows = await publish(b, pub, {"data": n}, {"data": n + 1})
            published.extend(row["id"] for row in rows)
            n += 2

    task = asyncio.create_task(publisher())
    try:
        await asyncio.sleep(0.3)
        snap = Subscription(a, {"f": flt, "s": 5}, protocol=LEGACY_WS)
        resume = Subscription(b, {"f": flt, "a": first[3]["id"]})
        async with snap, resume:
            await asyncio.sleep(1.0)
            stop.set()
            await task
            total = len(published)
            got_resume = await resume.wait_for(total - 4)
            assert [item["id"] for item in got_resume] == published[4:]
            await snap.wait_for(5)
            await snap.quiet(0.5)
            ids = [item["id"] for item in snap.items]
            start = published.index(ids[0])
            assert ids == published[start:]  # the last 5 at subscription, then every later one
            assert len(ids) >= 5
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def test_bad_arguments_are_graphql_errors(servers: list[Server]) -> None:
    a, _ = servers
    _, pub, _ = await _channels(a)
    [row] = await publish(a, pub, {"data": 1})
    for variables, code in (
        ({"a": "01UNKNOWN00000000000000000"}, "BAD_USER_INPUT"),
        ({"a": row["id"], "s": 1}, "BAD_USER_INPUT"),
        ({"s": 1001}, "BAD_USER_INPUT"),
    ):
        sub = Subscription(a, variables)
        await sub.__aenter__()
        await asyncio.wait_for(sub.done.wait(), 10)
        await sub.__aexit__()
        assert sub.error is not None
        assert sub.error["extensions"]["code"] == code, sub.error


async def test_64_kb_event_arrives_intact(servers: list[Server]) -> None:
    a, b = servers
    _, pub, _ = await _channels(a)
    big = {"blob": "x" * (65536 - 20)}
    assert len(json.dumps(big, separators=(",", ":"))) <= 65536
    async with Subscription(a, {"f": {"channelId": {"eq": pub}}}) as sub:
        await publish(b, pub, {"data": big})
        [item] = await sub.wait_for(1)
    assert item["data"] == big


async def test_replay_reaches_live_subscribers_marked_and_scoped(
    servers: list[Server], dialect: str
) -> None:
    a, b = servers
    _, pub, priv = await _channels(a)
    rows = await publish(a, pub, {"type": "r", "data": 1}, {"type": "other", "data": 2})
    [hidden] = await publish(a, priv, {"type": "r", "data": 3})
    flt = {"channelId": {"in": [pub, priv]}, "type": {"eq": "r"}}
    async with (
        Subscription(a, {"f": flt}, token=None) as anonymous,
        Subscription(a, {"f": flt}) as admin,
    ):
        # The memory bus (SQLite) is in-process: there, replay through the same process.
        replayer = a if dialect == "sqlite" and not b.env else b
        result = await graphql(
            replayer,
            "mutation($i: [ID!]) { replayEvents(ids: $i) { replayed } }",
            {"i": [rows[0]["id"], rows[1]["id"], hidden["id"]]},
        )
        assert result["replayEvents"]["replayed"] == 3
        got = await admin.wait_for(2)
        assert [(item["id"], item["replayed"]) for item in got] == [
            (rows[0]["id"], True),
            (hidden["id"], True),
        ]
        await anonymous.wait_for(1)
        await asyncio.sleep(0.3)
        assert [item["id"] for item in anonymous.items] == [rows[0]["id"]]


async def test_bad_token_is_refused_at_connection_init(servers: list[Server]) -> None:
    a, _ = servers
    for via in ("header", "payload"):
        headers = {"Authorization": "Bearer nope"} if via == "header" else {}
        async with websockets.connect(
            a.ws, subprotocols=[TRANSPORT_WS], additional_headers=headers
        ) as ws:
            payload = {"Authorization": "Bearer nope"} if via == "payload" else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
        assert info.value.rcvd is not None
        assert info.value.rcvd.code == 4403


async def test_frames_are_text_and_a_revoked_token_ends_the_subscription(
    servers: list[Server],
) -> None:
    a, b = servers
    _, pub, _ = await _channels(a)
    secret, token_id = await make_token(a, kind="subscribe", channelIds=[pub])
    async with websockets.connect(a.ws, subprotocols=[TRANSPORT_WS]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {secret}"}}
        await ws.send(json.dumps(init))
        ack = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(ack, str)
        assert json.loads(ack)["type"] == "connection_ack"
        query = "subscription { events { id data } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.5)
        await publish(b, pub, {"data": "before"})
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(frame, str)
        assert json.loads(frame)["payload"]["data"]["events"]["data"] == "before"
        await graphql(b, "mutation($i: ID!) { revokeToken(id: $i) { id } }", {"i": token_id})
        ended = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "complete"
        # A new operation on the same socket is refused too.
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": query}}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_websocket_messages_are_not_compressed(servers: list[Server]) -> None:
    """A client offering permessage-deflate (websockets does by default) is refused it:
    compressing every message for every subscriber costs the delivery path CPU."""
    async with websockets.connect(
        servers[0].ws, subprotocols=[TRANSPORT_WS], compression="deflate"
    ) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
