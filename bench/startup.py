"""Restart-to-ready time: launch ``eventgraph serve``, poll ``/readyz``, print the seconds.

    .venv/bin/python -m bench.startup [--runs 5] [--workers 1] [--pg DATABASE] [--no-bytecode]

The database is a fresh SQLite file unless ``--pg`` names a PostgreSQL database (created
if missing, on ``BENCH_PG``). ``--no-bytecode`` points Python at an empty bytecode cache,
which is how every start behaved before dependencies were byte-compiled at install time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import EVENTGRAPH, _ensure_database, free_port, log, sqlalchemy_url


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def time_to_ready(env: dict[str, str], workers: int) -> float:
    """Seconds from launching ``eventgraph serve`` until ``/readyz`` answers 200."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [EVENTGRAPH, "serve", "--workers", str(workers), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while not _ready(base):
            if process.poll() is not None:
                raise RuntimeError(f"eventgraph serve exited with {process.returncode}")
            if time.monotonic() - started > 120:
                raise RuntimeError("not ready within 120 s")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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
        times = []
        for run in range(args.runs):
            seconds = time_to_ready(env, args.workers)
            log(f"run {run + 1}: ready in {seconds:.2f} s")
            times.append(seconds)
    print(
        f"ready in median {statistics.median(times):.2f} s, min {min(times):.2f} s,"
        f" max {max(times):.2f} s over {len(times)} runs (workers={args.workers},"
        f" {'postgresql' if args.pg else 'sqlite'}"
        f"{', no bytecode' if args.no_bytecode else ''})"
    )


if __name__ == "__main__":
    main()
