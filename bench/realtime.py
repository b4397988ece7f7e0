"""Realtime fanout: Eventgraph beside the ceiling server and PostGraphile 5, in one run.

usage: ./dev bench realtime [--harness DIR] [--subscribers 1000] [--rate 200] [--duration 20]
                            [--workers 1,2] [--sweep 50,100,200,400,800] [--sweep-duration 10]
                            [--filters distinct|channel|all] [--rounds N]
                            [--skip-reference] [--skip-postgraphile] [--smoke]
                            [--database eventgraph_rt] [--port N]

Drives the shared harness (``fanout_bench.py``; default ``../shared/perf/realtime`` next to
the repository): 1,000 graphql-transport-ws subscribers with distinct filters, 200 events/s
for 20 s, exact missing/duplicate/unexpected counts per subscriber. In order: the no-database
ceiling server (``run_reference.sh``), PostGraphile 5 (``run_postgraphile.sh``), then
``eventgraph serve`` on PostgreSQL for each ``--workers`` value (a fresh ``eventgraph_rt``
database each time), then the publish-rate sweep on one process: the highest rate whose p99
stays under 100 ms with nothing missing. ``--rounds N`` repeats the ceiling, PostGraphile 5
and Eventgraph runs N times (the order reversed every other round) and reports the median
p50 and p99 of each and in how many rounds the bar held. ``--filters all`` (every
subscriber gets every event) at a low rate measures the delivery side with little
publishing in it. Results: ``bench/results/realtime/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the ceiling, PostGraphile 5 and Eventgraph runs, the order reversed"
        " every other round, and compare within each round and by the medians",
    )
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
        return await common.postmaster_pid(conn)
    finally:
        await conn.close()


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


def _eventgraph(
    harness: Path, load: list[str], args: argparse.Namespace, workers: int, out: Path
) -> dict[str, Any]:
    label = f"eventgraph-w{workers}"
    return _run_eventgraph(harness, load, args, workers=workers, label=label, out=out)


def _medians(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per server, the median p50 and p99 over the rounds."""
    labels = rounds[0] if rounds else {}
    return {
        label: {
            key: statistics.median(r[label]["latency_ms"][key.removesuffix("_ms")] for r in rounds)
            for key in ("p50_ms", "p99_ms")
        }
        for label in labels
    }


def _bar(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Per Eventgraph run, in how many rounds it delivered every event exactly once with a
    p99 no worse than PostGraphile 5's in the same round."""
    bar: dict[str, dict[str, int]] = {}
    for runs in rounds:
        anchor = runs.get("postgraphile5")
        if anchor is None:
            continue
        for label, r in runs.items():
            if not label.startswith("eventgraph"):
                continue
            d = r["delivery"]
            met = (
                d["missing"] == 0
                and d["duplicate"] == 0
                and r["latency_ms"]["p99"] <= anchor["latency_ms"]["p99"]
            )
            tally = bar.setdefault(label, {"met": 0, "rounds": 0})
            tally["met"] += met
            tally["rounds"] += 1
    return bar


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

    servers: list[tuple[str, Callable[[Path], dict[str, Any]]]] = []
    if not smoke and not args.skip_reference:
        script = harness / "run_reference.sh"
        servers.append(("reference", lambda out: _run_script(script, load, out)))
    if not smoke and not args.skip_postgraphile:
        pg5 = harness / "run_postgraphile.sh"
        servers.append(("postgraphile5", lambda out: _run_script(pg5, load, out)))
    servers.extend(
        (f"eventgraph-w{workers}", partial(_eventgraph, harness, load, args, workers))
        for workers in (int(w) for w in args.workers.split(",") if w)
    )

    rounds: list[dict[str, dict[str, Any]]] = []
    for index in range(args.rounds):
        # Reversed every other round: a server is not always the one that follows another's load.
        order = servers if index % 2 == 0 else servers[::-1]
        runs: dict[str, dict[str, Any]] = {}
        for label, run in order:
            suffix = f"-round{index + 1}" if args.rounds > 1 else ""
            common.log(f"{label}{suffix} ...")
            runs[label] = run(OUT / f"{label}{suffix}.json")
        rounds.append({label: runs[label] for label, _ in servers})

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
        "runs": {label: _row(r) for label, r in rounds[-1].items()} if rounds else {},
        "rounds": [{label: _row(r) for label, r in runs.items()} for runs in rounds],
        "medians": _medians(rounds),
        "bar": _bar(rounds),
        "sweep": sweep_results,
        "highest_rate_p99_under_100ms": ceiling_rate if sweep else None,
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=1))
    _print(report)
    common.log(f"wrote {OUT / 'report.json'} in {time.monotonic() - started:.0f} s")
    if smoke:
        for runs in rounds:
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
            *_labelled_runs(report["rounds"]),
            *((f"sweep {s['rate']:g}/s", s) for s in report["sweep"]),
        ]
    ]  # fmt: skip
    print(
        f"\nFanout: {report['subscribers']:,} graphql-transport-ws subscribers,"
        f" {report['filters']} filters, {report['rate']:g} events/s for {report['duration_s']:g} s"
    )
    if rows:
        common.print_table(headers, rows)
    if len(report["rounds"]) > 1:
        print("medians over the rounds (p50 / p99 ms):")
        for label, m in report["medians"].items():
            print(f"  {label}: {m['p50_ms']:.1f} / {m['p99_ms']:.1f}")
    for label, tally in report["bar"].items():
        print(
            f"bar (all delivered once, p99 <= PostGraphile 5's in the same round), {label}:"
            f" {tally['met']} of {tally['rounds']}"
        )
    if report["sweep"]:
        print(f"highest publish rate with p99 < 100 ms: {report['highest_rate_p99_under_100ms']}")


def _labelled_runs(rounds: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    if len(rounds) == 1:
        return list(rounds[0].items())
    return [(f"{label} #{i}", r) for i, runs in enumerate(rounds, 1) for label, r in runs.items()]


def _assert_smoke(runs: dict[str, dict[str, Any]]) -> None:
    for label, r in runs.items():
        d = r["delivery"]
        if not d["expected"] or d["missing"] or d["duplicate"] or d["unexpected"]:
            raise SystemExit(f"smoke: {label} delivered wrongly: {d}")


if __name__ == "__main__":
    main(sys.argv[1:])
