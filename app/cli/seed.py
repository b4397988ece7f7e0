"""``eventgraph seed``: benchmark data (set-based) or a few friendly demo events."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import typer

from app.cli.common import JSON_OPTION, emit, fail, run_with_database

PG_DEFAULT_EVENTS = 1_000_000
SQLITE_DEFAULT_EVENTS = 10_000


def seed_command(
    events: int | None = typer.Option(
        None,
        "--events",
        min=1,
        help=f"events to generate (default {PG_DEFAULT_EVENTS:,} on PostgreSQL,"
        f" {SQLITE_DEFAULT_EVENTS:,} on SQLite)",
    ),
    demo: bool = typer.Option(False, "--demo", help="add a small demo workspace instead"),
    replace: bool = typer.Option(
        False, "--replace", help="delete existing events, channels and workspaces first"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Migrate, then fill the database with benchmark data or a few demo events."""
    from db.database import Database
    from db.seed import SeedConflictError, seed_benchmark, seed_demo

    async def run(db: Database) -> int:
        if demo:
            return await seed_demo(db, datetime.now(UTC))
        size = events or (
            PG_DEFAULT_EVENTS if db.dialect == "postgresql" else SQLITE_DEFAULT_EVENTS
        )
        return await seed_benchmark(db, size, replace=replace)

    started = time.monotonic()
    try:
        count = run_with_database(run, pool_size=2)
    except SeedConflictError as exc:
        fail(f"{exc}" + ("" if demo else " (use --replace)"))
    elapsed = time.monotonic() - started
    what = "demo events" if demo else "events in 50 workspaces and 200 channels"
    emit(
        {"seeded": count, "demo": demo, "seconds": round(elapsed, 3)},
        f"seeded {count:,} {what} in {elapsed:.1f} s",
        as_json=as_json,
    )
