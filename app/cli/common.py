"""What every command shares, kept light so ``--help`` imports nothing heavy.

The output convention: human text on stdout by default, one JSON object with ``--json``
(for scripts); progress and notes on stderr; errors on stderr as ``error: path: message``
with exit status 1. The database and service modules are imported only when a command
runs.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from db.database import Database

T = TypeVar("T")

JSON_OPTION = typer.Option(False, "--json", help="print one JSON object (for scripts)")


def run_with_database(use_case: Callable[[Database], Awaitable[T]], *, pool_size: int = 1) -> T:
    """Migrate, then run ``use_case`` against the configured database; client errors exit 1."""
    import asyncio

    from app.errors import EventgraphError
    from app.settings import Settings
    from db.database import Database
    from db.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)

    async def main() -> T:
        db = Database(settings.database_url, pool_size=pool_size)
        try:
            return await use_case(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except EventgraphError as exc:
        fail(f"{exc.path}: {exc.message}" if exc.path else exc.message)


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def emit(record: dict[str, Any], text: str, *, as_json: bool) -> None:
    """Print ``record`` as JSON with ``--json``, else the human ``text``."""
    typer.echo(json.dumps(record, ensure_ascii=False) if as_json else text)


def parse_time(value: str, *, option: str) -> datetime:
    """An ISO 8601 option value in UTC; naive times are taken as UTC."""
    from db.types import parse_instant

    try:
        return parse_instant(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"use ISO 8601, e.g. 2025-01-01T00:00:00Z ({exc})", param_hint=option
        ) from None
