"""Publishing throughput: Eventgraph's REST publish next to plain asyncpg INSERTs.

usage: python -m bench.publish [--smoke] [--duration 10] [--warmup 3] [--workers 2]
                               [--database eventgraph_bench_publish] [--port N]
       (also ``python -m bench.run publish [...]``)

In one run, on a PostgreSQL database created fresh (dropped first) and migrated:
1. single events from 16 clients, 2. batches of 100 from 4 clients, each measured as
- ``eventgraph``: ``POST /api/v1/channels/{id}/events`` with a publish token, driven by wrk
  against ``eventgraph serve --workers N``;
- ``asyncpg+lock``: the same rows through plain asyncpg, one transaction per request that
  takes the ``event_positions`` row lock (``UPDATE ... RETURNING``) and INSERTs
  (``executemany`` for a batch) into the same table, as publishing must to order commits;
- ``asyncpg``: the same INSERTs with ``seq`` from a sequence, no position lock.
Prints events/s, p50 and p99 per request, server CPU ms per request and the ratios to
``asyncpg+lock``; writes ``bench/results/publish.json`` (``publish_smoke.json``).
``--smoke`` runs 1 s each and checks the per-channel counters against ``count(*)``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from ulid import ULID

from app.auth.principal import ADMIN
from app.channels.service import create_channel
from app.tokens.service import create_token
from app.workspaces.service import create_workspace
from bench import common
from db.database import Database
from db.migrate import upgrade

CHANNEL, WORKSPACE = "bench-publish", "bench"
PUBLISHED = ("bench-agent", "Bench Agent")  # publisher id and name
DATA = {"symbol": "BTC", "price": 67500.0, "venue": "bench", "n": 1}
MODES = (("single", 1, 16), ("batch", 100, 4))  # (name, events per request, clients)
INSERT = (
    "INSERT INTO events (id, seq, type, channel_id, workspace_id, publisher_id,"
    " publisher_name, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)"
)
NEXT = "SELECT nextval('bench_seq')"
MAX_BATCH = 1000
LOCK = "UPDATE event_positions SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 s runs and a counter check")
    parser.add_argument("--duration", type=int, default=None, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=None, help="wrk warm-up seconds")
    parser.add_argument("--workers", type=int, default=2, help="eventgraph serve --workers")
    parser.add_argument("--database", default="eventgraph_bench_publish")
    parser.add_argument("--port", type=int, default=None, help="server port (default: free)")
    return parser.parse_args(argv)


def _wrk_bench() -> Any:
    """The reference harness module (../shared/perf/wrk_bench.py): wrk, parse, tree_cpu."""
    spec = importlib.util.spec_from_file_location("wrk_bench", common.PERF / "wrk_bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def fresh_database(name: str) -> str:
    """Drop and create ``name``, migrate it, create the channel; returns a publish secret."""
    admin = await asyncpg.connect(common.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = common.sqlalchemy_url(name)
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        await create_workspace(db=db, principal=ADMIN, id=WORKSPACE, name="Bench")
        await create_channel(
            db=db, principal=ADMIN, id=CHANNEL, name="Bench", workspace_id=WORKSPACE
        )
        _, secret = await create_token(
            db=db,
            principal=ADMIN,
            name="bench publisher",
            kind="publish",
            channel_ids=[CHANNEL],
            publisher_id=PUBLISHED[0],
            publisher_name=PUBLISHED[1],
        )
    finally:
        await db.dispose()
    conn = await asyncpg.connect(common.dsn(name))
    try:  # positions for the lock-free variant, far above the publish counter
        await conn.execute("CREATE SEQUENCE bench_seq START 1000000000")
    finally:
        await conn.close()
    return secret


def _rows(count: int, seq: int) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    data = orjson.dumps(DATA).decode()
    return [
        (
            str(ULID()),
            seq - count + 1 + i,
            "bench.tick",
            CHANNEL,
            WORKSPACE,
            *PUBLISHED,
            data,
            now,
        )
        for i in range(count)
    ]


async def asyncpg_run(
    database: str, *, per_request: int, clients: int, seconds: float, lock: bool
) -> dict[str, Any]:
    """``clients`` connections publishing ``per_request`` rows per transaction for
    ``seconds``; events/s and per-transaction latency."""
    conns = [await asyncpg.connect(common.dsn(database)) for _ in range(clients)]
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(conn: asyncpg.Connection) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with conn.transaction():
                if lock:
                    last = await conn.fetchval(LOCK, per_request)
                else:  # unique positions without a shared row: n per sequence value
                    last = await conn.fetchval(NEXT) * MAX_BATCH + per_request
                rows = _rows(per_request, last)
                if per_request == 1:
                    await conn.execute(INSERT, *rows[0])
                else:
                    await conn.executemany(INSERT, rows)
            latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    try:
        await asyncio.gather(*(client(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    elapsed = time.monotonic() - started
    return _summary(len(latencies) * per_request / elapsed, latencies, None)


def _summary(events_per_s: float, latencies: list[float], cpu_ms: float | None) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None
    return {
        "events_per_s": events_per_s,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else None,
        "p99_ms": p99,
        "server_cpu_ms_per_request": cpu_ms,
    }


def eventgraph_run(
    harness: Any,
    server: common.Server,
    *,
    secret: str,
    per_request: int,
    clients: int,
    seconds: int,
    warmup: int,
) -> dict[str, Any]:
    """wrk POSTing one body (one event or a batch) from ``clients`` connections."""
    event = {"type": "bench.tick", "data": DATA}
    body = event if per_request == 1 else {"events": [event] * per_request}
    url = f"{server.url}/api/v1/channels/{CHANNEL}/events"
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
        handle.write(orjson.dumps(body))
    threads = min(2, clients)
    os.environ["WRK_AUTH"] = f"Bearer {secret}"  # read by the harness's post.lua
    if warmup:
        harness.wrk(url, handle.name, warmup, clients, threads)
    cpu0 = harness.tree_cpu(server.pid)
    result = harness.parse(harness.wrk(url, handle.name, seconds, clients, threads))
    cpu = harness.tree_cpu(server.pid) - cpu0
    Path(handle.name).unlink()
    if result["non2xx"] or result["socket_errors"]:
        raise SystemExit(f"eventgraph publish failed: {result}")
    requests = max(result["requests"], 1)
    return {
        "events_per_s": result["rps"] * per_request,
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "server_cpu_ms_per_request": 1000 * cpu / requests,
    }


async def check_counters(database: str) -> None:
    conn = await asyncpg.connect(common.dsn(database))
    try:
        counted = await conn.fetchval("SELECT count(*) FROM events")
        kept = await conn.fetchval("SELECT coalesce(sum(n), 0) FROM event_counts")
    finally:
        await conn.close()
    if counted != kept:
        raise SystemExit(f"counters disagree: count(*) {counted}, event_counts {kept}")
    common.log(f"counters agree with count(*): {counted:,} events")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    seconds = args.duration or (1 if args.smoke else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.smoke else 3)
    common.ensure_wrk()
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    harness = _wrk_bench()
    secret = asyncio.run(fresh_database(args.database))
    results: dict[str, dict[str, Any]] = {}
    with common.serve(args.database, workers=args.workers, port=args.port) as server:
        for mode, per_request, clients in MODES:
            common.log(f"{mode}: eventgraph ({clients} clients, {per_request}/request) ...")
            results[f"{mode}/eventgraph"] = eventgraph_run(
                harness,
                server,
                secret=secret,
                per_request=per_request,
                clients=clients,
                seconds=seconds,
                warmup=warmup,
            )
            for lock in (True, False):
                label = "asyncpg+lock" if lock else "asyncpg"
                common.log(f"{mode}: {label} ...")
                results[f"{mode}/{label}"] = asyncio.run(
                    asyncpg_run(
                        args.database,
                        per_request=per_request,
                        clients=clients,
                        seconds=seconds,
                        lock=lock,
                    )
                )
    asyncio.run(check_counters(args.database))
    rows = []
    for key, value in results.items():
        mode = key.split("/")[0]
        base = results[f"{mode}/asyncpg+lock"]["events_per_s"]
        value["ratio_to_asyncpg_lock"] = value["events_per_s"] / base if base else None
        rows.append(
            [
                key,
                common.fmt(value["events_per_s"]),
                common.fmt(value["p50_ms"], 2),
                common.fmt(value["p99_ms"], 2),
                common.fmt(value["server_cpu_ms_per_request"], 2),
                common.fmt(value["ratio_to_asyncpg_lock"], 2),
            ]
        )
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    out = common.RESULTS / ("publish_smoke.json" if args.smoke else "publish.json")
    out.write_text(json.dumps({"results": results, "load": load, "seconds": seconds}, indent=2))
    common.print_table(
        ["run", "events/s", "p50 ms", "p99 ms", "server CPU ms/req", "x asyncpg+lock"], rows
    )
    print(f"load average at the end: {' '.join(load)}")


if __name__ == "__main__":
    main(sys.argv[1:])
