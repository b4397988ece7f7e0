"""Restart-to-ready time: launch ``eventgraph serve``, poll ``/readyz``, print the seconds.

    .venv/bin/python -m bench.startup [--runs 5] [--workers 1] [--pg DATABASE] [--no-bytecode]

Besides wall time it reports the CPU seconds the server's processes used until ready, a
figure that stays meaningful on a shared, loaded machine. The database is a fresh SQLite
file unless ``--pg`` names a PostgreSQL database (created if missing, on ``BENCH_PG``).
``--no-bytecode`` points Python at an empty bytecode cache, which is how every start
behaved before dependencies were byte-compiled at install time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from app.cli.launch import start
from bench.common import _ensure_database, log, sqlalchemy_url
from bench.memory import tree_cpu_seconds


def time_to_ready(env: dict[str, str], workers: int, log: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from launching ``eventgraph serve`` until ``/readyz``
    answers 200."""
    started = time.monotonic()
    server = start(env, log=log, args=["--workers", str(workers)])
    try:
        while not server.answers("/readyz"):
            if server.process.poll() is not None:
                raise RuntimeError(f"eventgraph serve exited with {server.process.returncode}")
            if time.monotonic() - started > 120:
                raise RuntimeError("not ready within 120 s")
            time.sleep(0.05)
        return time.monotonic() - started, tree_cpu_seconds(server.process.pid)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg", metavar="DATABASE", help="PostgreSQL database instead of SQLite")
    parser.add_argument("--no-bytecode", action="store_true", help="start without a .pyc cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.pg:
            asyncio.run(_ensure_database(args.pg))
            url = sqlalchemy_url(args.pg)
        else:
            url = f"sqlite+aiosqlite:///{Path(scratch) / 'startup.db'}"
        env = {
            **os.environ,
            "EVENTGRAPH_DATABASE_URL": url,
            "EVENTGRAPH_ADMIN_TOKEN": secrets.token_urlsafe(24),
            "EVENTGRAPH_LOG_LEVEL": "WARNING",
        }
        if args.no_bytecode:
            env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "empty-pycache")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        times, cpu = [], []
        for run in range(args.runs):
            seconds, cpu_seconds = time_to_ready(env, args.workers, Path(scratch) / "serve.log")
            log(f"run {run + 1}: ready in {seconds:.2f} s ({cpu_seconds:.2f} s of CPU)")
            times.append(seconds)
            cpu.append(cpu_seconds)
    print(
        f"ready in median {statistics.median(times):.2f} s (min {min(times):.2f}, max"
        f" {max(times):.2f}), {statistics.median(cpu):.2f} s of CPU, over {len(times)} runs"
        f" (workers={args.workers}, {'postgresql' if args.pg else 'sqlite'}"
        f"{', no bytecode' if args.no_bytecode else ''})"
    )


if __name__ == "__main__":
    main()
