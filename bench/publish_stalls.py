"""The slowest publishes of a long run: GIN pending lists moved at 64 kB and at 4 MB.

usage: python -m bench.publish_stalls [--events 30000] [--database eventgraph_bench_stalls]
                                      [--port N]
       (also ``./dev bench stalls [...]``)

A publish statement holds the position lock until it commits, so the one publish that
moves a GIN index's whole pending list into the index (docs/indexes.md) stalls every
publish behind it. A 20 s benchmark publishes too few events to reach a move at
PostgreSQL's default limit (4 MB), so this one publishes ``--events`` single events back
to back (one client, one keep-alive connection, ``POST /api/v1/channels/{id}/events``,
``data`` as the realtime harness sends it plus one of fifty keys) to ``eventgraph serve``
on a fresh database, twice in one run: with the indexes reset to PostgreSQL's default
(the baseline), then with the limit migration 0011 sets (64 kB). Autovacuum is switched
off for ``events`` during the run: on a fresh table it comes every ~1,000 inserts and
empties the pending lists in the background, where on a large one it comes after 20 % of
the table more (200,000 publishes on a million events), long after the lists have
filled. Prints p50 / p99 / p99.9 / max ms per publish, how many took over 50 ms, and the
CPU ms per publish of the server and of PostgreSQL (the postmaster's process tree);
writes ``bench/results/publish_stalls.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

import asyncpg
import httpx

from bench import common
from bench.memory import tree_cpu_seconds
from bench.publish import CHANNEL, fresh_database

OUT = common.RESULTS / "publish_stalls.json"
SLOW_MS = 50.0
TYPES = [f"bench.t{i}" for i in range(10)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench stalls", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--database", default="eventgraph_bench_stalls")
    parser.add_argument("--port", type=int, default=None)
    return parser.parse_args(argv)


async def _prepare(database: str, *, reset: bool) -> tuple[list[str], int]:
    """The GIN indexes of ``events`` (with ``reset``, back to the default pending list)
    and the postmaster's pid; autovacuum off for ``events``."""
    conn = await asyncpg.connect(common.dsn(database))
    try:
        await conn.execute("ALTER TABLE events SET (autovacuum_enabled = off)")
        postmaster = await common.postmaster_pid(conn)
        names = [
            str(r[0])
            for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'events'"
                " AND indexdef LIKE '% USING gin %' ORDER BY indexname"
            )
        ]
        if reset:
            for name in names:
                await conn.execute(f'ALTER INDEX "{name}" RESET (gin_pending_list_limit)')
        return names, postmaster
    finally:
        await conn.close()


async def _publish(url: str, secret: str, events: int) -> list[float]:
    latencies: list[float] = []
    headers = {"authorization": f"Bearer {secret}"}
    target = f"{url}/api/v1/channels/{CHANNEL}/events"
    rng = random.Random(42)
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for n in range(events):
            data = {  # the realtime harness's event, and a key from fifty
                "n": rng.randrange(100), "seq": n, "t_sent": time.time_ns(),
                f"k{rng.randrange(50)}": "v",
            }  # fmt: skip
            started = time.perf_counter()
            answer = await client.post(target, json={"type": rng.choice(TYPES), "data": data})
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                raise SystemExit(f"publish {n} answered {answer.status_code}: {answer.text}")
    return latencies


def _run(args: argparse.Namespace, *, default_limit: bool) -> dict[str, Any]:
    secret = asyncio.run(fresh_database(args.database))
    indexes, postmaster = asyncio.run(_prepare(args.database, reset=default_limit))
    with common.serve(args.database, workers=1, port=args.port) as server:
        cpu0, db0 = tree_cpu_seconds(server.pid), tree_cpu_seconds(postmaster)
        latencies = asyncio.run(_publish(server.url, secret, args.events))
        cpu = tree_cpu_seconds(server.pid) - cpu0
        db_cpu = tree_cpu_seconds(postmaster) - db0
    ordered = sorted(latencies)
    n = len(ordered)
    return {
        "pending_list_limit": "4 MB (default)" if default_limit else "64 kB (0011)",
        "gin_indexes": indexes,
        "events": n,
        "p50_ms": ordered[n // 2],
        "p99_ms": ordered[int(n * 0.99)],
        "p999_ms": ordered[int(n * 0.999)],
        "max_ms": ordered[-1],
        "over_50_ms": [(i, round(ms, 1)) for i, ms in enumerate(latencies) if ms > SLOW_MS],
        "server_cpu_ms_per_publish": 1000 * cpu / n,
        "db_cpu_ms_per_publish": 1000 * db_cpu / n,
    }


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    runs = []
    for default_limit in (True, False):
        label = "the default 4 MB" if default_limit else "64 kB"
        common.log(f"{args.events:,} publishes, GIN pending lists at {label} ...")
        runs.append(_run(args, default_limit=default_limit))
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(runs, indent=1))
    headers = [
        "pending list", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "> 50 ms",
        "server CPU ms", "db CPU ms",
    ]  # fmt: skip
    common.print_table(
        headers,
        [
            [
                r["pending_list_limit"], common.fmt(r["p50_ms"], 2), common.fmt(r["p99_ms"], 2),
                common.fmt(r["p999_ms"], 2), common.fmt(r["max_ms"], 1),
                str(len(r["over_50_ms"])), common.fmt(r["server_cpu_ms_per_publish"], 2),
                common.fmt(r["db_cpu_ms_per_publish"], 2),
            ]
            for r in runs
        ],
    )  # fmt: skip
    for r in runs:
        print(f"{r['pending_list_limit']}: publishes over {SLOW_MS:g} ms {r['over_50_ms'][:10]}")
    common.log(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
