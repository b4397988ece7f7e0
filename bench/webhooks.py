"""Webhooks: delivery throughput, the outbox's cost on publishing, publish-to-first-attempt.

usage: python -m bench.webhooks [--events 2000] [--batches 200] [--samples 200] [--rounds 3]
    [--database eventgraph_bench_webhooks] [--receiver process|inline] [--publish-only]

In one process, on a fresh PostgreSQL database (``--database``): the app's own lifespan
(dispatcher included); the receiver (``bench/webhook_receiver.py``, uvicorn on 127.0.0.1,
answers 200 at once) runs in a process of its own, as a real receiver is elsewhere
(``--receiver inline``: in the bench's process, as before 2026-11-27, where its CPU
counted as the server's). Measured:
1. deliveries/s with 1 and with 10 webhooks: the deliveries are staged while the webhooks
   are paused, then queued again in bulk, and the clock runs until the receiver has all;
2. publish throughput (batches of 100 events, through ``publish_events``) with no webhook,
   with 10 paused webhooks (the outbox is written and expanded into one ``skipped`` range
   per webhook, nothing is sent: the cost of the outbox itself), then with 10 active ones
   (the dispatcher delivering in the same process, competing for the same CPU), in
   ``--rounds`` rounds of the three (each ratio against its round's rate with none; the
   medians are reported); beside each rate, this process's CPU ms per batch over the same
   time (publishing plus what the dispatcher, and an inline receiver, did meanwhile),
   steadier than rates on a shared machine, and the receiver process's;
3. publish-to-first-attempt: single events one at a time, from the publish's return to the
   receiver seeing the request; p50/p99.
Writes ``bench/results/webhooks.json`` (``--output``) and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import asyncpg
from asgi_lifespan import LifespanManager

from app.auth.principal import ADMIN
from app.channels.service import create_channel
from app.events.publish import EventDraft, publish_events
from app.main import create_app
from app.settings import Settings
from app.state import AppState
from app.webhooks import deliveries, service
from app.webhooks.expansion import expand_outbox
from app.workspaces.service import create_workspace
from bench import common
from bench.webhook_receiver import Receiver
from db.migrate import upgrade

DATABASE = "eventgraph_bench_webhooks"


async def fresh_database(name: str) -> str:
    conn = await asyncpg.connect(common.dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = common.sqlalchemy_url(name)
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


async def wait_count(receiver: Receiver, target: int, seconds: float = 300) -> int:
    async with asyncio.timeout(seconds):
        while (count := await receiver.count()) < target:  # noqa: ASYNC110 - sampling
            await asyncio.sleep(0.01 if receiver.mode == "inline" else 0.05)
    return count


async def deliveries_per_second(
    state: AppState, receiver: Receiver, webhooks: int, events: int
) -> float:
    ids = await add_webhooks(state, receiver.url, webhooks, enabled=False)
    for _ in range(events // 100):
        await publish(state, 100)
    # Expanded while paused (as skipped ranges) before they are enabled and retried in bulk.
    await expand_outbox(state.db, window=state.settings.webhook_window)
    await receiver.reset()
    started = time.perf_counter()
    for webhook_id in ids:
        await service.update_webhook(
            db=state.db, settings=state.settings, principal=ADMIN, id=webhook_id, enabled=True
        )
        await deliveries.retry_deliveries(
            db=state.db, principal=ADMIN, webhook_id=webhook_id, statuses=["skipped"]
        )
    count = await wait_count(receiver, webhooks * (events // 100) * 100)
    rate = count / (time.perf_counter() - started)
    await remove(state, ids)
    return rate


async def publish_rate(
    state: AppState, receiver: Receiver, batches: int
) -> tuple[float, float, float]:
    """Events/s, this process's CPU ms per batch over the same time (publishing, and the
    dispatcher and an inline receiver when they run beside it), and the receiver
    process's."""
    receiver_cpu = await receiver.cpu_s()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        await publish(state, 100)
    cpu_ms = (time.process_time() - cpu) * 1000 / batches
    rate = batches * 100 / (time.perf_counter() - started)
    receiver_ms = (await receiver.cpu_s() - receiver_cpu) * 1000 / batches
    return rate, round(cpu_ms, 1), round(receiver_ms, 1)


async def first_attempt_latency(state: AppState, receiver: Receiver, samples: int) -> list[float]:
    ids = await add_webhooks(state, receiver.url, 1, enabled=True)
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
        published = time.monotonic()
        event_id = rows[0]["id"]
        async with asyncio.timeout(30):
            while (seen := await receiver.seen(event_id)) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        waits.append((seen - published) * 1000)
        await asyncio.sleep(0.02)
    await remove(state, ids)
    return waits


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url = await fresh_database(args.database)
    receiver = Receiver(args.receiver)
    await receiver.start()
    # A short poll so that the bulk retry (which does not wake the dispatcher) starts at once.
    settings = Settings(database_url=url, webhook_allow_private=True, webhook_poll_interval=0.1)
    app = create_app(settings)
    results: dict[str, Any] = {"receiver": args.receiver}
    try:
        async with LifespanManager(app):
            await measure(app.state.eventgraph, receiver, args, results)
    finally:
        await receiver.stop()
    return results


async def measure(
    state: AppState, receiver: Receiver, args: argparse.Namespace, results: dict[str, Any]
) -> None:
    await create_workspace(db=state.db, principal=ADMIN, id="bench", name="Bench")
    await create_channel(
        db=state.db, principal=ADMIN, id="bench", name="Bench", workspace_id="bench"
    )
    if not args.publish_only:
        for webhooks in (1, 10):
            events = args.events if webhooks == 1 else max(100, args.events // 400 * 100)
            rate = await deliveries_per_second(state, receiver, webhooks, events)
            results[f"deliveries_per_s_{webhooks}_webhooks"] = round(rate)
            common.log(f"{webhooks} webhook(s): {rate:.0f} deliveries/s")

    measured: dict[str, list[tuple[float, float, float]]] = {}

    async def publishing(name: str) -> float:
        figures = await publish_rate(state, receiver, args.batches)
        measured.setdefault(name, []).append(figures)
        return figures[0]

    ratios: dict[str, list[float]] = {"10_paused": [], "10": []}
    for _ in range(args.rounds):
        none = await publishing("no_webhooks")
        # Paused: the outbox rows are written, nothing is sent (the cost of the outbox).
        ids = await add_webhooks(state, receiver.url, 10, enabled=False)
        ratios["10_paused"].append(await publishing("10_paused_webhooks") / none)
        await remove(state, ids)
        # Active: the dispatcher delivers in the same process while publishing goes on.
        ids = await add_webhooks(state, receiver.url, 10, enabled=True)
        ratios["10"].append(await publishing("10_webhooks") / none)
        await remove(state, ids)  # drops the backlog too
        await asyncio.sleep(0.5)  # requests in flight end before the next round
    for name, runs in measured.items():
        results[f"publish_events_per_s_{name}"] = round(statistics.median(r[0] for r in runs))
        results[f"publish_cpu_ms_per_batch_{name}"] = statistics.median(r[1] for r in runs)
        if receiver.mode != "inline":
            results[f"receiver_cpu_ms_per_batch_{name}"] = statistics.median(r[2] for r in runs)
    results["publish_ratio_10_paused_vs_none"] = round(statistics.median(ratios["10_paused"]), 2)
    results["publish_ratio_10_webhooks_vs_none"] = round(statistics.median(ratios["10"]), 2)
    if args.rounds > 1:
        results["publish_ratios_per_round"] = {
            name: [round(r, 2) for r in values] for name, values in ratios.items()
        }
    waits = await first_attempt_latency(state, receiver, args.samples)
    cuts = statistics.quantiles(waits, n=100)
    results["publish_to_first_attempt_ms_p50"] = round(cuts[49], 1)
    results["publish_to_first_attempt_ms_p99"] = round(cuts[98], 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events for the 1-webhook run")
    parser.add_argument("--batches", type=int, default=200, help="batches of 100 per publish run")
    parser.add_argument("--samples", type=int, default=200, help="latency samples")
    parser.add_argument(
        "--rounds", type=int, default=3, help="publish rounds (none, paused, active); medians"
    )
    parser.add_argument(
        "--publish-only", action="store_true", help="skip the deliveries/s measurements"
    )
    parser.add_argument("--database", default=DATABASE, help="dropped and created afresh")
    parser.add_argument(
        "--receiver",
        choices=("process", "inline"),
        default="process",
        help="the receiver in a process of its own, or in the bench's",
    )
    parser.add_argument("--output", default="webhooks.json", help="file in bench/results")
    parsed = parser.parse_args()
    results = asyncio.run(run(parsed))
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / parsed.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
