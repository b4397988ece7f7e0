"""The same app under ``eventgraph serve`` (uvicorn) and under another ASGI server, A/B.

    uv run --with 'granian[uvloop]==2.8.7' python -m bench.server_ab --label granian
        --other 'python -m granian --interface asgi --factory --workers 2 --loop uvloop
        --http 1 --host 127.0.0.1 --port {port} app.main:create_app'
        [--rounds 5] [--queries q1,q2,q4,q6] [--duration 6]

(granian is not a dependency: ``uv run --with`` adds it for the run only.)

Both servers run at once over ``--database`` (default ``eventgraph_bench``, read only; it
must already be seeded: ``./dev bench`` does that) with the same settings from the
environment; ``{port}`` in ``--other`` is replaced by a free port. Each round drives every
query through ``../shared/perf/wrk_bench.py`` (16 connections) on one server and then the
other, the order flipping every round, so that the machine's drifting load falls on both.
Prints, per query and server, the median and range over the rounds of the server CPU
per request (all processes of each server, from ``/proc``) and of req/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.cli.launch import Launched, free_port
from bench import common, queries


@contextmanager
def _other(command: str, env: dict[str, str], log: Path) -> Iterator[common.Server]:
    """The ``--other`` server, started in its own process group and stopped with it."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            shlex.split(command.format(port=port)),
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Launched(port, process, log)
    try:
        server.wait_ready(seconds=common.STARTUP_SECONDS)
        yield common.Server(pid=process.pid, url=server.base, token=env["EVENTGRAPH_ADMIN_TOKEN"])
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.server_ab", description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="the other server's command ({port})")
    parser.add_argument("--label", default="other")
    parser.add_argument("--database", default="eventgraph_bench")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", default="q1,q2,q4,q6")
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    names = [name.strip() for name in args.queries.split(",") if name.strip()]
    work = Path(tempfile.mkdtemp(prefix="eventgraph-server-ab-"))
    with common.serve(args.database) as uvicorn:
        env = {
            "EVENTGRAPH_DATABASE_URL": common.sqlalchemy_url(args.database),
            "EVENTGRAPH_ADMIN_TOKEN": uvicorn.token,
            "EVENTGRAPH_LOG_LEVEL": "WARNING",
        }
        with _other(args.other, env, work / "other.log") as other:
            servers = {"uvicorn": uvicorn, args.label: other}
            queries.write_bodies(
                work / "queries", queries.bodies(f"{uvicorn.url}/graphql", uvicorn.token)
            )
            runs: dict[str, dict[str, list[dict[str, Any]]]] = {
                label: {name: [] for name in names} for label in servers
            }
            for round_ in range(args.rounds):
                order = list(servers.items())
                for name in names:
                    for label, server in order if round_ % 2 == 0 else order[::-1]:
                        out = work / f"{label}-{name}.json"
                        common.run_wrk_bench(
                            url=f"{server.url}/graphql", pid=server.pid,
                            queries_dir=work / "queries", queries=[name],
                            duration=args.duration, warmup=args.warmup, out=out,
                            token=server.token, label=f"round {round_ + 1} {label}",
                        )  # fmt: skip
                        runs[label][name].append(json.loads(out.read_text())[name])
    _print(runs, names)
    common.log(f"load average at the end: {os.getloadavg()}")


def _print(runs: dict[str, dict[str, list[dict[str, Any]]]], names: list[str]) -> None:
    def spread(values: list[float], digits: int) -> str:
        median = common.fmt(statistics.median(values), digits)
        return f"{median} ({common.fmt(min(values), digits)}-{common.fmt(max(values), digits)})"

    rows = [
        [
            name,
            label,
            spread([run["server_cpu_ms_per_req"] for run in runs[label][name]], 3),
            spread([run["rps"] for run in runs[label][name]], 0),
            common.fmt(statistics.median(run["p99_ms"] for run in runs[label][name]), 1),
        ]
        for name in names
        for label in runs
    ]
    common.print_table(["query", "server", "CPU ms/req", "req/s", "p99 ms"], rows)


if __name__ == "__main__":
    main()
