"""``eventgraph seed``: benchmark data (set-based) or a few friendly demo events."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import typer

from app.settings import Settings
from db.database import Database
from db.migrate import upgrade
from db.seed import SeedConflictError, seed_benchmark, seed_demo

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
) -> None:
    """Migrate, then fill the database with benchmark data or a few demo events."""
    settings = Settings()
    upgrade(settings.database_url)
    if events is None:
        events = PG_DEFAULT_EVENTS if settings.is_postgres else SQLITE_DEFAULT_EVENTS
    started = time.monotonic()
    try:
        count = asyncio.run(_run(settings, events=events, demo=demo, replace=replace))
    except SeedConflictError as exc:
        typer.echo(f"error: {exc}" + ("" if demo else " (use --replace)"), err=True)
        raise typer.Exit(1) from exc
    elapsed = time.monotonic() - started
    what = "demo events" if demo else "events in 50 workspaces and 200 channels"
    typer.echo(f"seeded {count:,} {what} in {elapsed:.1f} s")


async def _run(settings: Settings, *, events: int, demo: bool, replace: bool) -> int:
    db = Database(settings.database_url, pool_size=2)
    try:
        if demo:
            return await seed_demo(db, datetime.now(UTC))
        return await seed_benchmark(db, events, replace=replace)
    finally:
        await db.dispose()
