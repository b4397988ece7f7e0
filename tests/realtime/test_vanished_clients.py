"""A client dropped by the ping timeout while a send is in flight is not a server error.

The frozen client's socket buffers are full, so the server's send to it is pending when
uvicorn's ping timeout closes the connection; the send then fails inside the subscription's
task. A vanished client is normal: nothing may be logged at ERROR for it.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.databases import DatabaseFactory
from tests.fixtures.servers import Server, broadcast_env, start_servers
from tests.realtime.client import publish
from tests.realtime.test_slow_clients import _argv, _channel, client

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("servers")]
PING_SECONDS = 2


@pytest.fixture
def pinging_server(
    request: pytest.FixtureRequest, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[Server]:
    url = database_factory.new_url()
    env = {
        **broadcast_env(request.config),
        "EVENTGRAPH_WS_PING_SECONDS": str(PING_SECONDS),
        "EVENTGRAPH_STREAM_QUEUE_SIZE": "100000",  # the ping timeout comes first
        "EVENTGRAPH_LOG_LEVEL": "INFO",
    }
    (server,) = start_servers(url, tmp_path, 1, env)
    yield server
    server.stop()
    database_factory.drop(url)


async def test_a_client_dropped_during_a_send_logs_no_error(
    pinging_server: Server, tmp_path: Path
) -> None:
    server = pinging_server
    channel = await _channel(server)
    before = server.metric("eventgraph_stream_subscribers")
    async with client(server, *_argv(server, "websocket", channel)) as frozen:
        await publish(server, channel, {"data": 1})
        await frozen.wait(lambda: frozen.ids, 60, "no event arrived")
        frozen.signal(signal.SIGSTOP)
        # Fill the socket: the kernel's buffers, then the server's write buffer past its
        # high-water mark, so that the server's next send waits for room.
        for _ in range(40):
            big = ({"data": secrets.token_hex(30_000)} for _ in range(5))
            await publish(server, channel, *big)
        # The ping timeout closes the socket meanwhile (the close waits for the flush).
        await asyncio.sleep(3 * PING_SECONDS)
        # Thawed, the client reads: room is made, and the waiting send goes on to a closed
        # socket.
        frozen.signal(signal.SIGCONT)
        deadline = time.monotonic() + 60
        while server.metric("eventgraph_stream_subscribers") > before:
            assert time.monotonic() < deadline, "the dropped client's subscriber remains"
            await asyncio.sleep(0.1)
        await asyncio.sleep(PING_SECONDS)
    log = (tmp_path / "server-0.log").read_text()
    assert "Unexpected ASGI message" not in log
    assert '"level":"ERROR"' not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
