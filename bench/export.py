"""NDJSON export: events/s and the server's peak memory at 100k and 1M events, next to psql.

usage: python -m bench.export [--sizes 100000,1000000] [--smoke]

For each size a fresh ``eventgraph serve --workers 2`` streams
``GET /api/events/export.ndjson`` (the newest N events: ``after`` = the id just before
them) to a client that counts lines; the peak RSS is the largest ``VmHWM`` in
``/proc/<pid>/status`` over the serve process tree, read after the stream ends (a fresh
server per size, so the high-water mark belongs to that export). The baseline is
``psql -c "\\copy (select row_to_json(e) from events e order by id) to stdout"`` over the
same rows. Flat memory means the 1M peak is close to the 100k peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from typing import Any

import asyncpg

from bench import common


def tree_hwm_kib(pid: int) -> int:
    """Largest VmHWM (peak RSS, KiB) among ``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    peak, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


async def boundary_id(database: str, size: int) -> str | None:
    """The id just before the newest ``size`` events (None: export everything)."""
    conn = await asyncpg.connect(common.dsn(database))
    try:
        total = int(await conn.fetchval("SELECT count(*) FROM events"))
        if size >= total:
            return None
        value = await conn.fetchval(
            "SELECT id FROM events ORDER BY id OFFSET $1 LIMIT 1", total - size - 1
        )
        return str(value)
    finally:
        await conn.close()


def export_eventgraph(database: str, after: str | None) -> dict[str, Any]:
    with common.serve(database) as server:
        base_hwm = tree_hwm_kib(server.pid)
        query = f"?{urllib.parse.urlencode({'after': after})}" if after else ""
        request = urllib.request.Request(  # noqa: S310 - local URL
            f"{server.url}/api/events/export.ndjson{query}",
            headers={"Authorization": f"Bearer {server.token}"},
        )
        lines = 0
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            for _ in response:
                lines += 1
        elapsed = time.monotonic() - started
        peak = tree_hwm_kib(server.pid)
    return {
        "events": lines,
        "seconds": elapsed,
        "events_per_s": lines / elapsed,
        "peak_rss_mib": peak / 1024,
        "idle_peak_rss_mib": base_hwm / 1024,
    }


def export_psql(database: str, after: str | None) -> dict[str, Any]:
    where = f" where e.id > '{after}'" if after else ""
    copy = f"\\copy (select row_to_json(e) from events e{where} order by id) to stdout"
    started = time.monotonic()
    process = subprocess.Popen(["psql", common.dsn(database), "-c", copy], stdout=subprocess.PIPE)
    assert process.stdout is not None
    lines = sum(1 for _ in process.stdout)
    process.wait()
    elapsed = time.monotonic() - started
    return {
        "events": lines,
        "seconds": elapsed,
        "events_per_s": lines / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.export")
    parser.add_argument("--sizes", default=None, help="comma-separated event counts")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    events = 50_000 if args.smoke else 1_000_000
    database = "eventgraph_bench_smoke" if args.smoke else "eventgraph_bench"
    default_sizes = "10000,50000" if args.smoke else "100000,1000000"
    sizes = [int(s) for s in (args.sizes or default_sizes).split(",")]
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    common.prepare_database(database, events)
    report: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        after = asyncio.run(boundary_id(database, size))
        ours = export_eventgraph(database, after)
        baseline = export_psql(database, after)
        report["sizes"][str(size)] = {"eventgraph": ours, "psql": baseline}
        common.log(
            f"{size:,}: Eventgraph {ours['events_per_s']:,.0f} ev/s peak {ours['peak_rss_mib']:.0f}"
            f" MiB; psql {baseline['events_per_s']:,.0f} ev/s"
        )
    headers = ["events", "EG events/s", "EG s", "EG peak RSS MiB", "EG idle RSS MiB",
               "psql events/s", "psql s", "EG/psql"]  # fmt: skip
    rows = [
        [f"{int(size):,}", common.fmt(r["eventgraph"]["events_per_s"]),
         common.fmt(r["eventgraph"]["seconds"], 1), common.fmt(r["eventgraph"]["peak_rss_mib"]),
         common.fmt(r["eventgraph"]["idle_peak_rss_mib"]),
         common.fmt(r["psql"]["events_per_s"]), common.fmt(r["psql"]["seconds"], 1),
         common.fmt(r["eventgraph"]["events_per_s"] / r["psql"]["events_per_s"], 2)]
        for size, r in report["sizes"].items()
    ]  # fmt: skip
    print("\nNDJSON export (serve --workers 2) vs psql \\copy row_to_json")
    common.print_table(headers, rows)
    out = common.RESULTS / ("export_smoke.json" if args.smoke else "export.json")
    out.write_text(json.dumps(report, indent=1))
    common.log(f"wrote {out}")


if __name__ == "__main__":
    main()
