"""The direct writer (``graphql_schema/subscription/direct.py``) against the general path.

Two raw WebSocket subscriptions per protocol select the same fields, one as the renderer
serves it (written directly, by the fan-out itself while its reader waits) and one with
``@include(if: true)`` on a field (executed per event by Strawberry and graphql-core). For
the same live events, replays and the token's revocation, both receive the same text
frames, byte for byte, through ``complete``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from tests.fixtures.servers import Server
from tests.realtime.client import PROTOCOLS, TRANSPORT_WS, graphql, make_channels, make_token
from tests.realtime.client import publish as publish_events

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("servers")]

SELECTION = "channelId type data meta subjectId createdAt replayed __typename"
DIRECT = f"subscription($f: EventFilter) {{ feed: events(filter: $f) {{ id {SELECTION} }} }}"
GENERAL = (
    "subscription($f: EventFilter)"
    f" {{ feed: events(filter: $f) {{ id @include(if: true) {SELECTION} }} }}"
)
EVENTS: list[dict[str, Any]] = [
    {"type": "t", "data": {"n": 1, "s": 'é\u2028"</script>', "nested": [None, True, 1.5]}},
    {"type": "t", "data": "plain", "meta": {"m": 1}, "subjectId": "s-1"},
    {"type": "u", "data": 0},
    {"data": [1, 2, 3]},
    {"type": "t", "data": {"big": "x" * 5000}},
]


async def _open(server: Server, protocol: str, secret: str, query: str, flt: object) -> Any:
    ws = await websockets.connect(server.ws, subprotocols=[protocol])  # type: ignore[arg-type]
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {secret}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    payload = {"query": query, "variables": {"f": flt}}
    await ws.send(json.dumps({"id": "op-1", "type": start, "payload": payload}))
    return ws


async def _counter(server: Server, name: str) -> float:
    async with httpx.AsyncClient(timeout=30) as http:
        text = (await http.get(f"{server.base}/metrics")).text
    [value] = [line.split()[-1] for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(value)


async def _direct_count(server: Server) -> float:
    return await _counter(server, "eventgraph_stream_direct_subscriptions_total")


async def _written_in_fan_out(server: Server) -> float:
    return await _counter(server, "eventgraph_stream_written_in_fan_out_total")


async def _frames_until_complete(ws: Any) -> list[str]:
    frames: list[str] = []
    while True:
        frame = await asyncio.wait_for(ws.recv(), 20)
        assert isinstance(frame, str)
        if json.loads(frame)["type"] == "ka":
            continue
        frames.append(frame)
        if json.loads(frame)["type"] == "complete":
            return frames


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_direct_frames_equal_the_general_paths(servers: list[Server], protocol: str) -> None:
    a, _ = servers
    ws_name = f"w{uuid.uuid4().hex[:10]}"
    channel = f"{ws_name}-c"
    await make_channels(a, ws_name, (channel, False))
    events = EVENTS
    secret, token_id = await make_token(a, kind="subscribe", channelIds=[channel])
    flt = {"channelId": {"eq": channel}}
    before = await _direct_count(a)
    direct = await _open(a, protocol, secret, DIRECT, flt)
    general = await _open(a, protocol, secret, GENERAL, flt)
    try:
        await asyncio.sleep(0.5)  # both registered
        assert await _direct_count(a) == before + 1  # the first one only
        written = await _written_in_fan_out(a)
        rows = await publish_events(a, channel, *events)
        await publish_events(a, channel, {"type": "t", "data": 2})
        await graphql(
            a,
            "mutation($i: [ID!]) { replayEvents(ids: $i) { replayed } }",
            {"i": [rows[0]["id"], rows[2]["id"]]},
        )
        await asyncio.sleep(0.5)
        # The direct subscription's reader waited for each of them: the fan-out wrote them.
        assert await _written_in_fan_out(a) == written + len(events) + 1 + 2
        await graphql(a, "mutation($i: ID!) { revokeToken(id: $i) { id } }", {"i": token_id})
        got_direct = await _frames_until_complete(direct)
        got_general = await _frames_until_complete(general)
    finally:
        await direct.close()
        await general.close()
    assert len(got_direct) == len(events) + 1 + 2 + 2  # events, replays, error, complete
    assert got_direct == got_general
    replayed = [json.loads(f)["payload"]["data"]["feed"]["replayed"] for f in got_direct[:-2]]
    assert replayed == [False] * (len(events) + 1) + [True, True]
