"""Webhooks: delivery throughput, the outbox's cost on publishing, publish-to-first-attempt.

usage: python -m bench.webhooks [--events 2000] [--batches 30] [--samples 200]

In one process, on a fresh PostgreSQL database ``eventgraph_bench_webhooks``: the app's
own lifespan (dispatcher included) and a local receiver (uvicorn on 127.0.0.1, answers 200
at once). Measured:
1. deliveries/s with 1 and with 10 webhooks: the deliveries are staged while the webhooks
   are paused, then queued again in bulk, and the clock runs until the receiver has all;
2. publish throughput (batches of 100 events, through ``publish_events``) with no webhook,
   with 10 paused webhooks (the outbox is written and expanded into ``skipped``
   deliveries, nothing is sent: the cost of the outbox itself), then with 10 active ones
   (the dispatcher delivering in the same process, competing for the same CPU); beside
   each rate, this process's CPU ms per batch over the same time (publishing plus what
   the dispatcher and the receiver did meanwhile), steadier than rates on a shared machine;
3. publish-to-first-attempt: single events one at a time, from the publish's return to the
   receiver seeing the request; p50/p99.
Writes ``bench/results/webhooks.json`` and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import time
from typing import Any

import asyncpg
import orjson
import uvicorn
from asgi_lifespan import LifespanManager

from app.auth.principal import ADMIN
from app.channels.service import create_channel
from app.events.publish import EventDraft, publish_events
from app.main import create_app
from app.settings import Settings
from app.state import AppState
from app.webhooks import deliveries, service
from app.webhooks.outbox import expand_outbox
from app.workspaces.service import create_workspace
from bench import common
from db.migrate import upgrade

DATABASE = "eventgraph_bench_webhooks"


class Counter:
    """The receiver: counts requests and stamps the first arrival of each event id."""

    def __init__(self) -> None:
        self.count = 0
        self.first_seen: dict[str, float] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.count += 1
        event_id = orjson.loads(body)["data"]["id"]
        self.first_seen.setdefault(event_id, time.perf_counter())
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})


async def fresh_database() -> str:
    conn = await asyncpg.connect(common.dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    url = common.sqlalchemy_url(DATABASE)
    await asyncio.to_thread(upgrade, url)
    return url


async def publish(state: AppState, count: int, *, data: Any = None) -> None:
    await publish_events(
        db=state.db,
        settings=state.settings,
        principal=ADMIN,
        channel_id="bench",
        drafts=[EventDraft(type="bench", data=data or {"n": i}) for i in range(count)],
        delivery=state.delivery,
    )


async def add_webhooks(state: AppState, url: str, count: int, *, enabled: bool) -> list[str]:
    ids = []
    for _ in range(count):
        row, _ = await service.create_webhook(
            db=state.db, settings=state.settings, principal=ADMIN, url=url
        )
        if not enabled:
            await service.update_webhook(
                db=state.db, settings=state.settings, principal=ADMIN, id=row["id"], enabled=False
            )
        ids.append(row["id"])
    return ids


async def remove(state: AppState, ids: list[str]) -> None:
    for webhook_id in ids:
        await service.delete_webhook(db=state.db, principal=ADMIN, id=webhook_id)


async def wait_count(receiver: Counter, target: int, seconds: float = 300) -> None:
    async with asyncio.timeout(seconds):
        while receiver.count < target:  # noqa: ASYNC110 - sampling a counter
            await asyncio.sleep(0.01)


async def deliveries_per_second(
    state: AppState, receiver: Counter, url: str, webhooks: int, events: int
) -> float:
    ids = await add_webhooks(state, url, webhooks, enabled=False)
    for _ in range(events // 100):
        await publish(state, 100)
    # Expanded while paused (as ``skipped``) before they are enabled and retried in bulk.
    await expand_outbox(state.db)
    receiver.count = 0
    started = time.perf_counter()
    for webhook_id in ids:
        await service.update_webhook(
            db=state.db, settings=state.settings, principal=ADMIN, id=webhook_id, enabled=True
        )
        await deliveries.retry_deliveries(
            db=state.db, principal=ADMIN, webhook_id=webhook_id, statuses=["skipped"]
        )
    await wait_count(receiver, webhooks * (events // 100) * 100)
    rate = receiver.count / (time.perf_counter() - started)
    await remove(state, ids)
    return rate


async def publish_rate(state: AppState, batches: int) -> tuple[float, float]:
    """Events/s, and this process's CPU ms per batch over the same time (publishing, and
    the dispatcher and the receiver when they run beside it)."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        await publish(state, 100)
    cpu_ms = (time.process_time() - cpu) * 1000 / batches
    return batches * 100 / (time.perf_counter() - started), round(cpu_ms, 1)


async def first_attempt_latency(
    state: AppState, receiver: Counter, url: str, samples: int
) -> list[float]:
    ids = await add_webhooks(state, url, 1, enabled=True)
    waits = []
    for i in range(samples):
        rows = await publish_events(
            db=state.db,
            settings=state.settings,
            principal=ADMIN,
            channel_id="bench",
            drafts=[EventDraft(type="latency", data={"i": i})],
            delivery=state.delivery,
        )
        published = time.perf_counter()
        event_id = rows[0]["id"]
        async with asyncio.timeout(30):
            while event_id not in receiver.first_seen:  # noqa: ASYNC110 - sampling
                await asyncio.sleep(0.001)
        waits.append((receiver.first_seen[event_id] - published) * 1000)
        await asyncio.sleep(0.02)
    await remove(state, ids)
    return waits


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url = await fresh_database()
    receiver = Counter()
    sock = socket.socket()
    # uvicorn sets no TCP_NODELAY on a socket it is handed: without it every response
    # waits ~40 ms for a delayed ACK (Nagle), which would be measured as our latency.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    hook_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(uvicorn.Config(receiver, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    # A short poll so that the bulk retry (which does not wake the dispatcher) starts at once.
    settings = Settings(database_url=url, webhook_allow_private=True, webhook_poll_interval=0.1)
    app = create_app(settings)
    results: dict[str, Any] = {}
    async with LifespanManager(app):
        state: AppState = app.state.eventgraph
        await create_workspace(db=state.db, principal=ADMIN, id="bench", name="Bench")
        await create_channel(
            db=state.db, principal=ADMIN, id="bench", name="Bench", workspace_id="bench"
        )
        for webhooks in (1, 10):
            events = args.events if webhooks == 1 else max(100, args.events // 400 * 100)
            rate = await deliveries_per_second(state, receiver, hook_url, webhooks, events)
            results[f"deliveries_per_s_{webhooks}_webhooks"] = round(rate)
            common.log(f"{webhooks} webhook(s): {rate:.0f} deliveries/s")
        none, results["publish_cpu_ms_per_batch_no_webhooks"] = await publish_rate(
            state, args.batches
        )
        results["publish_events_per_s_no_webhooks"] = round(none)
        # Paused: the outbox rows are written, nothing is sent (the cost of the outbox).
        ids = await add_webhooks(state, hook_url, 10, enabled=False)
        paused, results["publish_cpu_ms_per_batch_10_paused_webhooks"] = await publish_rate(
            state, args.batches
        )
        await remove(state, ids)
        results["publish_events_per_s_10_paused_webhooks"] = round(paused)
        results["publish_ratio_10_paused_vs_none"] = round(paused / none, 2)
        # Active: the dispatcher delivers in the same process while publishing goes on.
        ids = await add_webhooks(state, hook_url, 10, enabled=True)
        active, results["publish_cpu_ms_per_batch_10_webhooks"] = await publish_rate(
            state, args.batches
        )
        await remove(state, ids)  # drops the backlog too
        results["publish_events_per_s_10_webhooks"] = round(active)
        results["publish_ratio_10_webhooks_vs_none"] = round(active / none, 2)
        waits = await first_attempt_latency(state, receiver, hook_url, args.samples)
        cuts = statistics.quantiles(waits, n=100)
        results["publish_to_first_attempt_ms_p50"] = round(cuts[49], 1)
        results["publish_to_first_attempt_ms_p99"] = round(cuts[98], 1)
    server.should_exit = True
    await serving
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events for the 1-webhook run")
    parser.add_argument("--batches", type=int, default=30, help="batches of 100 per publish run")
    parser.add_argument("--samples", type=int, default=200, help="latency samples")
    results = asyncio.run(run(parser.parse_args()))
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / "webhooks.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
