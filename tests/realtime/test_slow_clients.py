"""Clients that stop reading or vanish, as real processes on real sockets (WebSocket, SSE).

A client process is frozen with SIGSTOP (it reads nothing, not even pings) while events
keep coming; the socket buffers fill, then its bounded queue, and its stream is cut with
SLOW_CONSUMER. Thawed, it reads what was already in flight, then the error with the id to
resume from. A client killed with SIGKILL closes its socket without a close frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.servers import FAST_TIMERS, Server
from tests.realtime.client import Subscription, make_channels, publish

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("servers")]

logger = logging.getLogger(__name__)
QUEUE = int(FAST_TIMERS["EVENTGRAPH_STREAM_QUEUE_SIZE"])
SIZE = 32_000  # random per event: WebSocket compression would shrink repeated text to nothing
BATCH = 10
# The client's receive buffer is small, so that the socket fills after little data and the
# queue bound is reached well within the ping timeout (which would otherwise drop the
# frozen client first, see docs/realtime.md).
RCVBUF = 16_384

WS_CLIENT = """
import json, socket, sys
from urllib.parse import urlsplit
from websockets.sync.client import connect
url = urlsplit(sys.argv[1])
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[3]))
sock.connect((url.hostname, url.port))
ws = connect(sys.argv[1], sock=sock, subprotocols=["graphql-transport-ws"], max_size=None,
             max_queue=4)
ws.send(json.dumps({"type": "connection_init", "payload": {}}))
ws.recv()
query = "subscription($f: EventFilter) { events(filter: $f) { id data } }"
variables = {"f": {"channelId": {"eq": sys.argv[2]}}}
ws.send(json.dumps({"id": "1", "type": "subscribe",
                    "payload": {"query": query, "variables": variables}}))
print(json.dumps({"type": "subscribed"}), flush=True)
while True:
    message = json.loads(ws.recv())
    errors = message["payload"].get("errors") if message["type"] == "next" else None
    if message["type"] == "next" and not errors:
        print(json.dumps({"type": "next", "id": message["payload"]["data"]["events"]["id"]}),
              flush=True)
        continue
    # A stream error comes as "next" with errors (or "error"): errors first, then "complete".
    print(json.dumps({"type": "error", "payload": errors or message.get("payload")}), flush=True)
    break
"""

SSE_CLIENT = """
import json, socket, sys
import httpx
options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[2]))]
http = httpx.Client(transport=httpx.HTTPTransport(socket_options=options), timeout=None)
with http.stream("GET", sys.argv[1]) as response:
    print(json.dumps({"type": "subscribed"}), flush=True)
    fields = {}
    for line in response.iter_lines():
        if line and not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
            continue
        if fields.get("event") == "error":
            print(json.dumps({"type": "error", "payload": json.loads(fields["data"])}),
                  flush=True)
            break
        if "data" in fields:
            print(json.dumps({"type": "next", "id": fields["id"]}), flush=True)
        fields = {}
"""


def _rss_mib(server: Server) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class Client:
    """A client process; its stdout is one JSON message per line, read in the background."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.messages: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.messages.append(json.loads(line))

    async def wait(self, done: Any, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, f"{what}: {self.messages[-3:]}"
            await asyncio.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.process.pid, sig)

    @property
    def ids(self) -> list[str]:
        return [m["id"] for m in self.messages if m["type"] == "next"]


@asynccontextmanager
async def client(server: Server, script: str, *argv: str) -> AsyncIterator[Client]:
    before = server.metric("eventgraph_stream_subscribers")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *argv, stdout=subprocess.PIPE
    )
    running = Client(process)
    try:
        await running.wait(lambda: running.messages, 60, "the client never subscribed")
        deadline = time.monotonic() + 30
        while server.metric("eventgraph_stream_subscribers") <= before:
            assert time.monotonic() < deadline, "the server never registered the client"
            await asyncio.sleep(0.05)
        yield running
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await running.reader


async def _channel(server: Server) -> str:
    ws = f"w{uuid.uuid4().hex[:10]}"
    await make_channels(server, ws, (f"{ws}-c", False))
    return f"{ws}-c"


async def _publish(server: Server, channel: str, count: int) -> list[str]:
    ids: list[str] = []
    for _ in range(count // BATCH):
        events = ({"data": secrets.token_hex(SIZE // 2)} for _ in range(BATCH))
        rows = await publish(server, channel, *events)
        ids.extend(row["id"] for row in rows)
    return ids


def _argv(server: Server, transport: str, channel: str) -> tuple[str, ...]:
    if transport == "websocket":
        return WS_CLIENT, server.ws, channel, str(RCVBUF)
    return SSE_CLIENT, f"{server.base}/api/v1/channels/{channel}/events/stream", str(RCVBUF)


@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_a_client_that_stops_reading_is_cut_off_with_the_resume_id(
    servers: list[Server], transport: str
) -> None:
    a, _ = servers
    channel = await _channel(a)
    cuts = a.metric("eventgraph_stream_slow_consumer_disconnects_total")
    async with (
        Subscription(a, {"f": {"channelId": {"eq": channel}}}) as other,
        client(a, *_argv(a, transport, channel)) as frozen,
    ):
        published = await _publish(a, channel, BATCH)
        await frozen.wait(lambda: len(frozen.ids) == BATCH, 60, "not live")
        frozen.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        rss_before = _rss_mib(a)
        while a.metric("eventgraph_stream_slow_consumer_disconnects_total") == cuts:
            assert len(published) < 20 * QUEUE, "the queue bound was never reached"
            published += await _publish(a, channel, BATCH)
        to_cut, cut_seconds = len(published), time.monotonic() - frozen_at
        # Still frozen: more rounds as large. Memory held per event for the cut client
        # would grow with each; allocator and buffer growth levels off (a fresh server
        # grows for a round or two).
        rss = [_rss_mib(a)]
        round_mib = SIZE * to_cut / 2**20
        while len(rss) < 2 or rss[-1] - rss[-2] > round_mib / 2:
            assert len(rss) <= 4, f"RSS MiB {rss} grows with every {round_mib:.1f} MiB round"
            published += await _publish(a, channel, to_cut)
            rss.append(_rss_mib(a))
        # The other subscriber on the same process kept up meanwhile.
        got = await other.wait_for(len(published), 120)
        assert [item["id"] for item in got] == published
        frozen_seconds = time.monotonic() - frozen_at
        frozen.signal(signal.SIGCONT)
        await asyncio.wait_for(frozen.process.wait(), 120)
        await frozen.reader
    logger.info(
        f"{transport}: cut after {to_cut} events, {cut_seconds:.1f} s frozen of"
        f" {frozen_seconds:.1f}; RSS MiB {rss_before:.1f} then {rss}"
    )
    received = frozen.ids
    # What was handed to the socket arrives, in order.
    assert received == published[: len(received)]
    assert len(received) < len(published) - QUEUE
    error = frozen.messages[-1]
    if error["type"] == "error":
        detail = error["payload"][0]["extensions"] if transport == "websocket" else error["payload"]
        assert detail["code"] == "SLOW_CONSUMER", error
        assert detail["resumeAfter"] == received[-1]
    else:
        # Documented (docs/realtime.md): a client that reads nothing for longer than the
        # keep-alive also misses its pongs and is dropped before the error reaches it.
        assert transport == "websocket", frozen.messages[-3:]
        assert frozen_seconds > float(FAST_TIMERS["EVENTGRAPH_WS_PING_SECONDS"])
    resume = received[-1]
    # Resuming with that id yields the rest, exactly once.
    flt = {"f": {"channelId": {"eq": channel}}, "a": resume}
    async with Subscription(a, flt) as resumed:
        rest = await resumed.wait_for(len(published) - len(received), 120)
    assert received + [item["id"] for item in rest] == published


@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_a_killed_client_leaves_no_subscriber_behind(
    servers: list[Server], transport: str
) -> None:
    a, _ = servers
    channel = await _channel(a)
    before = a.metric("eventgraph_stream_subscribers")
    async with client(a, *_argv(a, transport, channel)) as killed:
        await publish(a, channel, {"data": 1})
        await killed.wait(lambda: killed.ids, 60, "no event arrived")
        killed.signal(signal.SIGKILL)  # the kernel closes the socket: no close frame
        await killed.process.wait()
        deadline = time.monotonic() + 30
        while a.metric("eventgraph_stream_subscribers") > before:
            assert time.monotonic() < deadline, "the killed client's subscriber remains"
            await asyncio.sleep(0.1)
    assert a.metric("eventgraph_stream_subscribers") == before
