"""Shared plumbing of the bench scripts: databases, seeding, the server, wrk, the table."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.cli.launch import launched

ROOT = Path(__file__).resolve().parent.parent
# The reference harness lives beside the repository (../shared/perf) unless told otherwise.
PERF = Path(os.environ.get("EVENTGRAPH_PERF_DIR", ROOT.parent / "shared" / "perf"))
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
EVENTGRAPH = str(ROOT / ".venv" / "bin" / "eventgraph")
RESULTS = ROOT / "bench" / "results"
STARTUP_SECONDS = 180  # imports alone take most of a minute on a busy shared machine


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def dsn(database: str) -> str:
    return f"{PG}/{database}"


def sqlalchemy_url(database: str) -> str:
    return dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


async def postmaster_pid(conn: asyncpg.Connection) -> int:
    """The PostgreSQL server's pid (the root of its process tree, for database CPU), or 0
    when its data directory cannot be read from here."""
    data_dir = await conn.fetchval("SHOW data_directory")
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


async def _ensure_database(name: str) -> None:
    conn = await asyncpg.connect(dsn("postgres"))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _is_fresh(name: str, events: int) -> bool:
    conn = await asyncpg.connect(dsn(name))
    try:
        if not await conn.fetchval("SELECT to_regclass('events') IS NOT NULL"):
            return False
        return bool(
            await conn.fetchval(
                "SELECT count(*) = $1 AND max(created_at) > now() - interval '7 days' FROM events",
                events,
            )
        )
    finally:
        await conn.close()


def prepare_database(name: str, events: int) -> None:
    """Create ``name`` if missing and seed ``events`` events unless it already holds them."""
    asyncio.run(_ensure_database(name))
    if asyncio.run(_is_fresh(name, events)):
        log(f"{name} already holds {events:,} fresh events; not re-seeding")
        return
    log(f"seeding {events:,} events into {name} ...")
    started = time.monotonic()
    env = {**os.environ, "EVENTGRAPH_DATABASE_URL": sqlalchemy_url(name)}
    subprocess.run([EVENTGRAPH, "seed", "--events", str(events), "--replace"], env=env, check=True)
    log(f"seeded in {time.monotonic() - started:.0f} s")


def ensure_wrk() -> None:
    """wrk from apt when missing, as postgraphile.sh does."""
    if shutil.which("wrk"):
        return
    log("installing wrk (apt) ...")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


@dataclass
class Server:
    pid: int
    url: str
    token: str


@contextmanager
def serve(database: str, *, workers: int = 2, port: int | None = None) -> Iterator[Server]:
    """``eventgraph serve --workers N`` on ``port`` (default: a free one), stopped (its
    whole group) on exit; its log is ``bench/results/serve.log``."""
    token = secrets.token_urlsafe(24)
    env = {
        "EVENTGRAPH_DATABASE_URL": sqlalchemy_url(database),
        "EVENTGRAPH_ADMIN_TOKEN": token,
        "EVENTGRAPH_LOG_LEVEL": "WARNING",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with launched(
        env,
        log=RESULTS / "serve.log",
        args=["--workers", str(workers)],
        seconds=STARTUP_SECONDS,
        port=port,
    ) as server:
        yield Server(pid=server.process.pid, url=server.base, token=token)


def run_wrk_bench(
    *,
    url: str,
    pid: int,
    queries_dir: Path,
    queries: list[str],
    duration: int,
    warmup: int,
    out: Path,
    token: str,
    label: str,
) -> None:
    """``../shared/perf/wrk_bench.py`` (the reference harness) against one server."""
    subprocess.run(
        [
            sys.executable, str(PERF / "wrk_bench.py"), "--url", url, "--pid", str(pid),
            "--queries-dir", str(queries_dir), "--queries", ",".join(queries),
            "--duration", str(duration), "--warmup", str(warmup), "--json", str(out),
            "--label", label,
        ],
        env={**os.environ, "WRK_AUTH": f"Bearer {token}"},
        check=True,
    )  # fmt: skip


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = " | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
