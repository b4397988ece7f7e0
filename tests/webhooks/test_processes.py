"""Real ``eventgraph serve`` processes (the shared ``start_servers``): a SIGKILL with a
delivery in flight; two processes on one database never sending the same attempt twice,
keeping the per-webhook concurrency cap together, and sending nothing after another
process paused or deleted the webhook; two processes releasing a backlog past the window
at once."""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.database import Database
from db.repositories import webhook_ranges as ranges_repo
from db.repositories import webhooks as repo
from tests.fixtures.app import ADMIN_SECRET
from tests.fixtures.servers import Server, start_servers
from tests.webhooks.receiver import Receiver, Reply, running_receiver

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}
pytestmark = pytest.mark.timeout(600)
WEBHOOK_ENV = {
    "EVENTGRAPH_WEBHOOK_ALLOW_PRIVATE": "true",
    "EVENTGRAPH_WEBHOOK_RETRY_BASE": "0.2",
    "EVENTGRAPH_WEBHOOK_POLL_INTERVAL": "0.1",
}


@asynccontextmanager
async def served(
    database_url: str, workdir: Path, count: int = 1, **env: str
) -> AsyncIterator[list[Server]]:
    """``count`` servers on one database; started in a thread so that the receiver, in
    this event loop, keeps answering meanwhile. ``env``: extra ``EVENTGRAPH_*`` settings
    (``EVENTGRAPH_WEBHOOK_TIMEOUT`` also sets the lease: 2 x it + 5 s)."""
    started = await asyncio.to_thread(
        start_servers, database_url, workdir, count, {**WEBHOOK_ENV, **env}
    )
    try:
        yield started
    finally:
        for server in started:
            if server.process.poll() is None:
                await asyncio.to_thread(server.stop)


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
        timeout = {"EVENTGRAPH_WEBHOOK_TIMEOUT": "1"}
        async with served(database_url, tmp_path, **timeout) as [server]:
            base = server.base
            webhook_id = await setup(base, receiver)
            await publish(base, 1)
            [first] = await receiver.wait_for(1, seconds=60)
            server.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(server.process.wait, 20)
        async with served(database_url, tmp_path, **timeout) as [server]:
            base = server.base
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
        served(database_url, tmp_path, 2, EVENTGRAPH_WEBHOOK_TIMEOUT="10") as [a, b],
    ):
        first, second = a.base, b.base
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


async def test_pause_and_delete_in_one_process_stop_deliveries_staged_by_another(
    database_url: str, tmp_path: Path
) -> None:
    """The second process's webhook cache is warm (and up to 1 s stale) when the first
    pauses or deletes the webhook: its publishes stage nothing that is sent."""
    async with running_receiver() as receiver, served(database_url, tmp_path, 2) as [a, b]:
        webhook_id = await setup(a.base, receiver)
        await asyncio.sleep(1.2)  # b's cache expires and lists the new webhook
        await publish(b.base, 1)
        await receiver.wait_for(1, seconds=60)
        await graphql(
            a.base,
            "mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { id } }",
            {"id": webhook_id},
        )
        await publish(b.base, 5, start=1)
        await asyncio.sleep(2)
        assert len(receiver.received) == 1
        log = await delivery_log(a.base, webhook_id)
        assert sorted(d["status"] for d in log) == ["skipped"] * 5 + ["succeeded"]

        await graphql(a.base, "mutation($id: ID!) { deleteWebhook(id: $id) }", {"id": webhook_id})
        await publish(b.base, 5, start=6)
        await asyncio.sleep(1.5)
        assert len(receiver.received) == 1
        db = Database(database_url)
        try:
            async with db.read() as conn:
                left = await repo.list_deliveries(
                    conn, webhook_id=webhook_id, statuses=None, limit=100
                )
        finally:
            await db.dispose()
        assert left == []  # no delivery rows of the deleted webhook were left behind


async def test_the_concurrency_cap_holds_over_two_processes(
    database_url: str, tmp_path: Path
) -> None:
    cap = {"EVENTGRAPH_WEBHOOK_CONCURRENCY": "2", "EVENTGRAPH_WEBHOOK_TIMEOUT": "10"}
    async with running_receiver() as receiver, served(database_url, tmp_path, 2, **cap) as [a, b]:
        webhook_id = await setup(a.base, receiver)
        await asyncio.sleep(1.2)  # both processes' caches list the webhook
        receiver.plan = [Reply(delay=0.4) for _ in range(16)]
        await asyncio.gather(publish(a.base, 8), publish(b.base, 8, start=8))
        await receiver.wait_for(16, seconds=120)

        async def all_succeeded() -> bool:
            log = await delivery_log(a.base, webhook_id)
            return sorted(d["status"] for d in log) == ["succeeded"] * 16

        await until(all_succeeded)
        # Each process alone may send two; together they must not exceed two either.
        assert receiver.most_in_flight == 2


async def test_two_processes_release_a_backlog_past_the_window_exactly_once_in_order(
    database_url: str, tmp_path: Path
) -> None:
    """A window of 4 and a slow first answer: most of the backlog waits as pending ranges,
    which both processes' dispatchers release as the window frees (each every 0.2 s, at
    the same moments). One request at a time over both processes, so queue order."""
    env = {"EVENTGRAPH_WEBHOOK_WINDOW": "4", "EVENTGRAPH_WEBHOOK_CONCURRENCY": "1"}
    async with running_receiver() as receiver, served(database_url, tmp_path, 2, **env) as [a, b]:
        webhook_id = await setup(a.base, receiver)
        await asyncio.sleep(1.2)  # both processes' caches list the webhook
        receiver.plan = [Reply(delay=2.0)]  # the window fills, the rest waits as ranges
        total = 0
        for round_ in range(30):  # commit order: one publish after the other
            await publish((a if round_ % 2 == 0 else b).base, 3, total)
            total += 3
        db = Database(database_url)
        try:
            async with db.read() as conn:
                waiting = await ranges_repo.webhooks_with_pending_ranges(conn)
            assert waiting == [webhook_id]
            got = await receiver.wait_for(total, seconds=120)
            await asyncio.sleep(2)  # anything sent twice would arrive by now
            async with db.read() as conn:
                rows = await repo.list_deliveries(
                    conn, webhook_id=webhook_id, statuses=None, limit=10 * total
                )
                assert await ranges_repo.webhooks_with_pending_ranges(conn) == []
        finally:
            await db.dispose()
        assert len(receiver.received) == total
        assert [r.json["data"]["data"] for r in got] == list(range(total))
        assert len({r.id for r in got}) == total
        assert sorted(r["id"] for r in rows) == sorted(r.id for r in got)
        assert {(r["status"], r["attempts"]) for r in rows} == {("succeeded", 1)}
        for server in (a, b):  # a release that lost a race would have failed its round
            assert "Traceback" not in server.launched.log.read_text(errors="replace")
