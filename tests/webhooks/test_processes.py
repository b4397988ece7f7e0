"""Real ``eventgraph serve`` processes: a SIGKILL with a delivery in flight, and two
processes on one database never sending the same attempt twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.app import ADMIN_SECRET
from tests.webhooks.receiver import Receiver, Reply, running_receiver

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}
pytestmark = pytest.mark.timeout(400)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def served(
    database_url: str, log: Path, *, attempt_seconds: str = "1"
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {
        **os.environ,
        "EVENTGRAPH_DATABASE_URL": database_url,
        "EVENTGRAPH_ADMIN_TOKEN": ADMIN_SECRET,
        "EVENTGRAPH_PORT": str(port),
        "EVENTGRAPH_HOST": "127.0.0.1",
        "EVENTGRAPH_WEBHOOK_ALLOW_PRIVATE": "true",
        "EVENTGRAPH_WEBHOOK_RETRY_BASE": "0.2",
        "EVENTGRAPH_WEBHOOK_POLL_INTERVAL": "0.1",
        "EVENTGRAPH_WEBHOOK_TIMEOUT": attempt_seconds,  # a lease: 2 x this + 5 s
    }
    out = log.open("ab")
    eventgraph = Path(sys.executable).parent / "eventgraph"
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, then polled without blocking
        [str(eventgraph), "serve"], env=env, stdout=out, stderr=out
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            for _ in range(600):  # start-up is slow on a loaded 2-core machine
                if process.poll() is not None:
                    pytest.fail(f"server exited:\n{log.read_text()}")  # noqa: ASYNC240
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                pytest.fail(f"server did not start:\n{log.read_text()}")  # noqa: ASYNC240
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(20)
        out.close()


async def graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=HEADERS
        )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def setup(base: str, receiver: Receiver) -> str:
    await graphql(base, 'mutation { createWorkspace(input: {id: "w", name: "W"}) { id } }')
    await graphql(
        base, 'mutation { createChannel(input: {id: "c", name: "C", workspaceId: "w"}) { id } }'
    )
    data = await graphql(
        base,
        "mutation($u: String!) { createWebhook(input: {url: $u}) { secret webhook { id } } }",
        {"u": receiver.url},
    )
    receiver.secrets = [data["createWebhook"]["secret"]]
    webhook_id: str = data["createWebhook"]["webhook"]["id"]
    return webhook_id


async def publish(base: str, count: int, start: int = 0) -> None:
    await graphql(
        base,
        'mutation($e: [EventInput!]!) { publishEvents(channelId: "c", events: $e) { id } }',
        {"e": [{"data": start + i} for i in range(count)]},
    )


async def delivery_log(base: str, webhook_id: str) -> list[dict[str, Any]]:
    data = await graphql(
        base,
        "query($id: ID!) { webhook(id: $id) { deliveries(first: 100) {"
        " id status attempts { statusCode } } } }",
        {"id": webhook_id},
    )
    found: list[dict[str, Any]] = data["webhook"]["deliveries"]
    return found


async def until(check: Callable[[], Any], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - polling another process over HTTP
            await asyncio.sleep(0.2)


async def test_sigkill_with_a_delivery_in_flight(database_url: str, tmp_path: Path) -> None:
    async with running_receiver() as receiver:
        receiver.plan = [Reply(hang=True)]  # the first process never gets an answer
        async with served(database_url, tmp_path / "a.log") as (base, process):
            webhook_id = await setup(base, receiver)
            await publish(base, 1)
            [first] = await receiver.wait_for(1, seconds=60)
            process.send_signal(signal.SIGKILL)
            process.wait(20)
        async with served(database_url, tmp_path / "b.log") as (base, _):
            _, second = await receiver.wait_for(2, seconds=90)
            assert second.id == first.id
            assert second.body == first.body

            async def delivered() -> bool:
                log = await delivery_log(base, webhook_id)
                return bool(log) and log[0]["status"] == "succeeded"

            await until(delivered)
            # The attempt cut off by the kill is not logged; the one sent again is.
            [delivery] = await delivery_log(base, webhook_id)
            assert [a["statusCode"] for a in delivery["attempts"]] == [200]


async def test_two_processes_never_send_the_same_attempt_twice(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        running_receiver() as receiver,
        served(database_url, tmp_path / "a.log", attempt_seconds="10") as (first, _),
        served(database_url, tmp_path / "b.log", attempt_seconds="10") as (second, _),
    ):
        webhook_id = await setup(first, receiver)
        # Answers that take a while keep deliveries in flight while others are claimed.
        receiver.plan = [Reply(delay=random.uniform(0, 0.3)) for _ in range(100)]
        await asyncio.sleep(1.2)  # the second process's webhook cache expires
        total = 0
        for round_ in range(5):
            base = first if round_ % 2 == 0 else second
            await asyncio.gather(publish(base, 10, total), publish(base, 10, total + 10))
            total += 20
        got = await receiver.wait_for(total, seconds=90)
        await asyncio.sleep(2)  # anything sent twice would arrive by now
        log = await delivery_log(first, webhook_id)
        assert len(log) == total
        assert all(d["status"] == "succeeded" for d in log)
        assert all(len(d["attempts"]) == 1 for d in log), log
        assert len(receiver.received) == total
        assert len({r.id for r in got}) == total
        assert sorted(r.json["data"]["data"] for r in got) == list(range(total))
