"""GraphQL Q1-Q6: Eventgraph next to PostGraphile 5 in the same run, and the asyncpg ceiling.

usage: python -m bench.run [--smoke] [--queries q1,q2] [--duration 20] [--warmup 5]
                           [--skip-postgraphile] [--interleave] [--ceiling-sql engine|hand]
                           [--soak 300]
       python -m bench.run realtime [...]   (the fanout benchmark: bench/realtime.py)
       python -m bench.run worst [...]      (the costliest requests: bench/worst_request.py)
       python -m bench.run publish [...]    (publishing throughput: bench/publish.py)
       python -m bench.run stalls [...]     (long-run publish stalls: bench/publish_stalls.py)

Full run: 1,000,000 events in database ``eventgraph_bench`` (seeded once, reused while
fresh), ``eventgraph serve --workers 2`` driven by the reference ``wrk_bench.py``
(16 connections, 2 threads, 5 s warm-up, 20 s measured), then ``postgraphile.sh`` on its own
``anchor_perf`` database (``--interleave``: query by query, each right after Eventgraph's),
then every query's SQL through plain asyncpg. ``--smoke``:
50,000 events in ``eventgraph_bench_smoke``, 2 s runs, no PostGraphile (installing Node and
seeding a million rows does not fit a CI budget); it proves the whole path works.
Writes ``bench/results/latest.json`` (or ``smoke.json``) and prints one table, then the
peak RSS of one server process of each side under that load. ``--soak N`` then drives
Q1-Q6 in turns against Eventgraph for N more seconds and prints its RSS over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    ceiling,
    common,
    memory,
    publish,
    publish_stalls,
    queries,
    realtime,
    worst_request,
)

SMOKE_EVENTS = 50_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="50k events, 2 s runs, no anchor")
    parser.add_argument("--queries", default=",".join(queries.ALL))
    parser.add_argument("--duration", type=int, default=None, help="measured wrk seconds")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up wrk seconds")
    parser.add_argument("--events", type=int, default=None, help="dataset size")
    parser.add_argument("--skip-postgraphile", action="store_true")
    parser.add_argument(
        "--interleave", action="store_true", help="each query on both servers before the next"
    )
    parser.add_argument("--ceiling-seconds", type=float, default=None)
    parser.add_argument("--ceiling-sql", choices=["engine", "hand"], default="engine")
    parser.add_argument("--soak", type=int, default=0, help="seconds of Q1-Q6 in turns (RSS)")
    return parser.parse_args()


def main() -> None:
    if sys.argv[1:2] == ["publish"]:
        publish.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["realtime"]:
        realtime.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["stalls"]:
        publish_stalls.main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["worst"]:
        worst_request.main(sys.argv[2:])
        return
    args = parse_args()
    started = time.monotonic()
    smoke = args.smoke
    # wrk_bench.py checks that every query returns a full page of 50; Q3 matches ~0.3 % of
    # the events, so 50,000 is the smallest dataset the smoke can use.
    events = args.events or (SMOKE_EVENTS if smoke else 1_000_000)
    database = "eventgraph_bench_smoke" if smoke else "eventgraph_bench"
    duration = args.duration or (2 if smoke else 20)
    warmup = args.warmup if args.warmup is not None else (1 if smoke else 5)
    ceiling_seconds = args.ceiling_seconds or (1.0 if smoke else 5.0)
    names = [q.strip() for q in args.queries.split(",") if q.strip()]
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    common.ensure_wrk()
    common.prepare_database(database, events)

    work = Path(tempfile.mkdtemp(prefix="eventgraph-bench-"))
    with_anchor = not smoke and not args.skip_postgraphile
    eventgraph: dict[str, Any] = {}
    anchor: dict[str, Any] = {}
    eg_rss: list[memory.RssSampler] = []
    pg_rss: list[memory.RssSampler] = []
    with common.serve(database) as server:
        graphql_url = f"{server.url}/graphql"
        bodies = queries.bodies(graphql_url, server.token)
        queries.write_bodies(work / "queries", bodies)
        common.log(f"Eventgraph (serve --workers 2, pid {server.pid}) on {events:,} events")
        # --interleave: one query at a time, Eventgraph then PostGraphile, because the
        # machine's state (other load, clock) drifts over minutes; else all of each side.
        for group in [[name] for name in names] if args.interleave else [names]:
            out = work / f"eventgraph-{'-'.join(group)}.json"
            eg_rss.append(memory.RssSampler(server.pid))
            eg_rss[-1].start()
            common.run_wrk_bench(
                url=graphql_url, pid=server.pid, queries_dir=work / "queries", queries=group,
                duration=duration, warmup=warmup, out=out, token=server.token,
                label="eventgraph",
            )  # fmt: skip
            eg_rss[-1].stop()
            eventgraph.update(json.loads(out.read_text()))
            if with_anchor:
                anchor.update(_postgraphile(group, duration, warmup, work, pg_rss))
        soak = _soak(graphql_url, server, work / "queries", names, args.soak) if args.soak else []

    common.log(f"asyncpg ceiling ({args.ceiling_sql} SQL, 16 tasks) ...")
    ceilings, sql_used = asyncio.run(
        _ceilings(database, names, bodies, args.ceiling_sql, ceiling_seconds, server.token)
    )

    report = {
        "events": events,
        "smoke": smoke,
        "duration_s": duration,
        "warmup_s": warmup,
        "ceiling_sql": sql_used,
        "peak_rss_mib": {
            "eventgraph": _peak(eg_rss),
            "postgraphile": _peak(pg_rss),
        },
        "soak_rss_mib": soak,
        "queries": {
            name: {
                "eventgraph": eventgraph.get(name),
                "postgraphile": anchor.get(name),
                "asyncpg_qps": ceilings.get(name),
                "ratio_vs_postgraphile": _ratio(eventgraph.get(name), anchor.get(name)),
            }
            for name in names
        },
    }
    out = common.RESULTS / ("smoke.json" if smoke else "latest.json")
    out.write_text(json.dumps(report, indent=1))
    _print(report)
    common.log(f"wrote {out} in {time.monotonic() - started:.0f} s")
    if smoke:
        _assert_smoke(report)


def _peak(samplers: list[memory.RssSampler]) -> float | None:
    peaks = [peak for sampler in samplers if (peak := sampler.peak_mib()) is not None]
    return max(peaks) if peaks else None


def _postgraphile(
    names: list[str], duration: int, warmup: int, work: Path, samplers: list[memory.RssSampler]
) -> dict[str, Any]:
    """``names`` through ``../shared/perf/postgraphile.sh`` (it starts and stops its server)."""
    out = work / f"postgraphile-{'-'.join(names)}.json"
    script = subprocess.Popen(
        [
            str(common.PERF / "postgraphile.sh"), "--queries", ",".join(names),
            "--duration", str(duration), "--warmup", str(warmup), "--json", str(out),
        ],
    )  # fmt: skip
    rss = memory.RssSampler(script.pid, keep=lambda command: "server.mjs" in command)
    samplers.append(rss)
    rss.start()
    if script.wait() != 0:
        raise SystemExit(f"postgraphile.sh failed ({script.returncode})")
    rss.stop()
    found: dict[str, Any] = json.loads(out.read_text())
    return found


async def _ceilings(
    database: str,
    names: list[str],
    bodies: dict[str, dict[str, Any]],
    mode: str,
    seconds: float,
    token: str,
) -> tuple[dict[str, float], str]:
    statements: dict[str, ceiling.Statements]
    used = mode
    if mode == "engine":
        try:
            statements = await ceiling.capture_engine_sql(
                common.sqlalchemy_url(database), token, {n: bodies[n] for n in names}
            )
        except Exception as exc:
            common.log(f"could not capture the engine's SQL ({exc!r}); using hand-written SQL")
            used = "hand"
    if used == "hand":
        statements = queries.hand_sql(None)
    results = {}
    for name in names:
        results[name] = await ceiling.measure(
            common.dsn(database), statements[name], seconds=seconds
        )
        common.log(f"asyncpg {name}: {results[name]:.0f} q/s ({len(statements[name])} statements)")
    return results, used


def _soak(
    url: str, server: common.Server, bodies: Path, names: list[str], seconds: int
) -> list[tuple[float, float]]:
    """Q1-Q6 in turns (10 s of wrk each) for ``seconds``; the largest worker RSS over time."""
    common.log(f"soak: Q1-Q6 in turns for {seconds} s, sampling RSS ...")
    sampler = memory.RssSampler(server.pid)
    sampler.start()
    deadline = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < deadline:
        body = bodies / f"{names[turn % len(names)]}.json"
        span = max(1, min(10, int(deadline - time.monotonic())))
        subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{span}s", "-s", str(common.PERF / "post.lua"), url,
             "--", str(body)],
            env={**os.environ, "WRK_AUTH": f"Bearer {server.token}"},
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        turn += 1
    series = sampler.stop().series_mib(every=30)
    for at, mib in series:
        common.log(f"soak: {at:5.0f} s  largest server process RSS {mib:.1f} MiB")
    return series


def _ratio(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> float | None:
    if not ours or not theirs or not theirs.get("rps"):
        return None
    return float(ours["rps"]) / float(theirs["rps"])


def _print(report: dict[str, Any]) -> None:
    headers = [
        "query", "EG req/s", "EG p50", "EG p99", "EG cpu ms/req",
        "PG req/s", "PG p50", "PG p99", "PG cpu ms/req", "EG/PG", "asyncpg q/s", "EG/asyncpg",
    ]  # fmt: skip
    rows = []
    for name, r in report["queries"].items():
        eg, pg = r["eventgraph"] or {}, r["postgraphile"] or {}
        ceiling_qps = r["asyncpg_qps"]
        rows.append([
            name.upper(), common.fmt(eg.get("rps")), common.fmt(eg.get("p50_ms"), 1),
            common.fmt(eg.get("p99_ms"), 1), common.fmt(eg.get("server_cpu_ms_per_req"), 2),
            common.fmt(pg.get("rps")), common.fmt(pg.get("p50_ms"), 1),
            common.fmt(pg.get("p99_ms"), 1), common.fmt(pg.get("server_cpu_ms_per_req"), 2),
            common.fmt(r["ratio_vs_postgraphile"], 2), common.fmt(ceiling_qps),
            common.fmt(eg["rps"] / ceiling_qps if eg.get("rps") and ceiling_qps else None, 2),
        ])  # fmt: skip
    print(
        f"\nGraphQL Q1-Q6 on {report['events']:,} events"
        f" (wrk 16 conns, {report['duration_s']} s; EG = Eventgraph serve --workers 2,"
        f" PG = PostGraphile 5; p50/p99 in ms; asyncpg = {report['ceiling_sql']} SQL)"
    )
    common.print_table(headers, rows)
    rss = report["peak_rss_mib"]
    eg, pg = common.fmt(rss["eventgraph"], 1), common.fmt(rss["postgraphile"], 1)
    print(f"\npeak RSS of one server process: Eventgraph {eg} MiB, PostGraphile {pg} MiB")
    if report["soak_rss_mib"]:
        first, last = report["soak_rss_mib"][0], report["soak_rss_mib"][-1]
        print(
            f"soak: largest Eventgraph process {first[1]:.1f} MiB at {first[0]:.0f} s,"
            f" {last[1]:.1f} MiB at {last[0]:.0f} s"
        )


def _assert_smoke(report: dict[str, Any]) -> None:
    for name, r in report["queries"].items():
        eg = r["eventgraph"]
        if not eg or eg["rps"] <= 0 or eg["non2xx"]:
            raise SystemExit(f"smoke: {name} failed under load: {eg}")
        if not r["asyncpg_qps"]:
            raise SystemExit(f"smoke: {name} has no asyncpg figure")


if __name__ == "__main__":
    main()
