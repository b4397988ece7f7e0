"""Realtime fanout: Eventgraph beside the ceiling server and PostGraphile 5, in one run.

usage: ./dev bench realtime [--harness DIR] [--subscribers 1000] [--rate 200] [--duration 20]
                            [--workers 1,2] [--sweep 50,100,200,400,800] [--sweep-duration 10]
                            [--filters distinct|channel|all]
                            [--skip-reference] [--skip-postgraphile] [--smoke]
                            [--database eventgraph_rt] [--port N]

Drives the shared harness (``fanout_bench.py``; default ``../shared/perf/realtime`` next to
the repository): 1,000 graphql-transport-ws subscribers with distinct filters, 200 events/s
for 20 s, exact missing/duplicate/unexpected counts per subscriber. In order: the no-database
ceiling server (``run_reference.sh``), PostGraphile 5 (``run_postgraphile.sh``), then
``eventgraph serve`` on PostgreSQL for each ``--workers`` value (a fresh ``eventgraph_rt``
database each time), then the publish-rate sweep on one process: the highest rate whose p99
stays under 100 ms with nothing missing. ``--filters all`` (every subscriber gets every
event) at a low rate measures the delivery side with little publishing in it. Results:
``bench/results/realtime/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import common

DEFAULT_HARNESS = common.ROOT.parent / "shared" / "perf" / "realtime"
DATABASE = "eventgraph_rt"
P99_BUDGET_MS = 100.0
OUT = common.RESULTS / "realtime"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench realtime", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--harness",
        type=Path,
        default=DEFAULT_HARNESS,
        help="the shared harness folder (default ../shared/perf/realtime beside the repo)",
    )
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="events per second")
    parser.add_argument("--duration", type=float, default=None, help="publish seconds")
    parser.add_argument("--workers", default="1,2", help="comma-separated serve --workers")
    parser.add_argument(
        "--filters",
        choices=["distinct", "channel", "all"],
        default="distinct",
        help="the harness's subscriber filters (all: every subscriber gets every event)",
    )
    parser.add_argument(
        "--sweep", default=None, help="publish rates tried in order (events/s) for the p99 bound"
    )
    parser.add_argument("--sweep-duration", type=float, default=None)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-postgraphile", action="store_true")
    parser.add_argument(
        "--smoke", action="store_true", help="100 subscribers, 50 events/s, 5 s, no anchors"
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="the PostgreSQL database Eventgraph runs on, dropped and recreated per run",
    )
    parser.add_argument("--port", type=int, default=None, help="Eventgraph's port (default: free)")
    return parser.parse_args(argv)


def _harness_python() -> Path:
    venv = Path(os.environ.get("RT_VENV", Path.home() / ".cache" / "eventgraph-anchor" / "rt-venv"))
    return venv / "bin" / "python"


def _load(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text())
    return result


async def _reset_database(name: str) -> int:
    """Drop and recreate ``name``; return the postmaster's pid (for the db CPU figure)."""
    conn = await asyncpg.connect(common.dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        data_dir = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _run_script(script: Path, load: list[str], out: Path) -> dict[str, Any]:
    subprocess.run([str(script), *load, "--json", str(out)], check=True)
    return _load(out)


def _run_eventgraph(
    harness: Path, load: list[str], args: argparse.Namespace, *, workers: int, label: str, out: Path
) -> dict[str, Any]:
    postmaster = asyncio.run(_reset_database(args.database))
    with common.serve(args.database, workers=workers, port=args.port) as server:
        command = [
            str(_harness_python()), str(harness / "fanout_bench.py"),
            "--url", f"{server.url}/graphql", "--ws-url",
            server.url.replace("http://", "ws://", 1) + "/graphql",
            f"--token={server.token}", "--setup", "--server-pid", str(server.pid),
            "--label", label, "--json", str(out), *load,
        ]  # fmt: skip
        if postmaster:
            command += ["--db-pid", str(postmaster)]
        subprocess.run(command, check=True)
    return _load(out)


def _passes(result: dict[str, Any], rate: float) -> bool:
    delivery, publish = result["delivery"], result["publish"]
    return (
        delivery["missing"] == 0
        and delivery["duplicate"] == 0
        and publish["rate_achieved"] >= 0.95 * rate
        and result["latency_ms"]["p99"] < P99_BUDGET_MS
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    harness = args.harness.resolve()
    if not (harness / "fanout_bench.py").is_file():
        raise SystemExit(f"no fanout_bench.py in {harness} (pass --harness)")
    smoke = args.smoke
    subscribers = args.subscribers or (100 if smoke else 1000)
    rate = args.rate or (50.0 if smoke else 200.0)
    duration = args.duration or (5.0 if smoke else 20.0)
    rates = args.sweep if args.sweep is not None else ("" if smoke else "50,100,200,400,800")
    sweep = [float(r) for r in rates.split(",") if r]
    sweep_duration = args.sweep_duration or 10.0
    shape = ["--subscribers", str(subscribers), "--filters", args.filters]
    load = [*shape, "--rate", str(rate), "--duration", str(duration)]
    OUT.mkdir(parents=True, exist_ok=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    if not _harness_python().exists():
        subprocess.run([str(harness / "setup.sh")], check=True)
    started = time.monotonic()

    runs: dict[str, dict[str, Any]] = {}
    if not smoke and not args.skip_reference:
        common.log("ceiling server (reference_server.py) ...")
        runs["reference"] = _run_script(harness / "run_reference.sh", load, OUT / "reference.json")
    if not smoke and not args.skip_postgraphile:
        common.log("PostGraphile 5 ...")
        runs["postgraphile5"] = _run_script(
            harness / "run_postgraphile.sh", load, OUT / "postgraphile5.json"
        )
    for workers in (int(w) for w in args.workers.split(",") if w):
        label = f"eventgraph-w{workers}"
        common.log(f"Eventgraph (serve --workers {workers}) ...")
        runs[label] = _run_eventgraph(
            harness, load, args, workers=workers, label=label, out=OUT / f"{label}.json"
        )

    ceiling_rate: float | None = None
    sweep_results: list[dict[str, Any]] = []
    for sweep_rate in sweep:
        common.log(f"Eventgraph (1 process) at {sweep_rate:g} events/s ...")
        label = f"eventgraph-w1-{sweep_rate:g}"
        result = _run_eventgraph(
            harness,
            [*shape, "--rate", str(sweep_rate), "--duration", str(sweep_duration)],
            args,
            workers=1, label=label, out=OUT / f"{label}.json",
        )  # fmt: skip
        ok = _passes(result, sweep_rate)
        sweep_results.append({"rate": sweep_rate, "passes": ok, **_row(result)})
        if not ok:
            break
        ceiling_rate = sweep_rate

    report = {
        "subscribers": subscribers,
        "filters": args.filters,
        "rate": rate,
        "duration_s": duration,
        "runs": {label: _row(r) for label, r in runs.items()},
        "sweep": sweep_results,
        "highest_rate_p99_under_100ms": ceiling_rate if sweep else None,
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=1))
    _print(report)
    common.log(f"wrote {OUT / 'report.json'} in {time.monotonic() - started:.0f} s")
    if smoke:
        _assert_smoke(runs)


def _row(r: dict[str, Any]) -> dict[str, Any]:
    delivery, latency, server = r["delivery"], r["latency_ms"], r["server"]
    return {
        "delivered": delivery["delivered_expected"],
        "expected": delivery["expected"],
        "missing": delivery["missing"],
        "duplicate": delivery["duplicate"],
        "unexpected": delivery["unexpected"],
        "rate_achieved": r["publish"]["rate_achieved"],
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        "rss_mib_per_1k": server.get("rss_mib_per_1k_subscribers"),
        "server_cpu_pct": server.get("cpu_pct"),
        "db_cpu_pct": r.get("db", {}).get("cpu_pct"),
        "client_cpu_pct": r["client"]["cpu_pct"],
    }


def _print(report: dict[str, Any]) -> None:
    headers = [
        "run", "delivered/expected", "missing", "dup", "unexp.", "ev/s", "p50 ms", "p99 ms",
        "MiB/1k subs", "server CPU %", "db CPU %", "client CPU %",
    ]  # fmt: skip
    rows = [
        [label, f"{r['delivered']:,}/{r['expected']:,}", str(r["missing"]), str(r["duplicate"]),
         str(r["unexpected"]), common.fmt(r["rate_achieved"]), common.fmt(r["p50_ms"], 1),
         common.fmt(r["p99_ms"], 1), common.fmt(r["rss_mib_per_1k"], 1),
         common.fmt(r["server_cpu_pct"]), common.fmt(r["db_cpu_pct"]),
         common.fmt(r["client_cpu_pct"])]
        for label, r in [
            *report["runs"].items(),
            *((f"sweep {s['rate']:g}/s", s) for s in report["sweep"]),
        ]
    ]  # fmt: skip
    print(
        f"\nFanout: {report['subscribers']:,} graphql-transport-ws subscribers,"
        f" {report['filters']} filters, {report['rate']:g} events/s for {report['duration_s']:g} s"
    )
    if rows:
        common.print_table(headers, rows)
    if report["sweep"]:
        print(f"highest publish rate with p99 < 100 ms: {report['highest_rate_p99_under_100ms']}")


def _assert_smoke(runs: dict[str, dict[str, Any]]) -> None:
    for label, r in runs.items():
        d = r["delivery"]
        if not d["expected"] or d["missing"] or d["duplicate"] or d["unexpected"]:
            raise SystemExit(f"smoke: {label} delivered wrongly: {d}")


if __name__ == "__main__":
    main(sys.argv[1:])
