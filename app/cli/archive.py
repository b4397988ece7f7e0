"""``eventgraph export``, ``import`` and ``purge``: NDJSON archives and retention by hand."""

from __future__ import annotations

import asyncio
import gzip
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from app.errors import EventgraphError
from app.events.archive import export_events, import_events, ndjson_line
from app.events.retention import purge_before
from app.settings import Settings
from db.database import Database
from db.migrate import upgrade
from db.query.ast import And, Compare, Filter
from db.query.scope import ADMIN_SCOPE
from db.types import parse_instant

T = TypeVar("T")
_stderr = Console(stderr=True)


def _run(use_case: Callable[[Database], Awaitable[T]]) -> T:
    settings = Settings()
    upgrade(settings.database_url)

    async def main() -> T:
        db = Database(settings.database_url, pool_size=1)
        try:
            return await use_case(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except EventgraphError as exc:
        where = f" ({exc.path})" if exc.path else ""
        typer.echo(f"error: {exc.message}{where}", err=True)
        raise typer.Exit(1) from None


def _datetime(value: str | None, *, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise typer.BadParameter(f"{option}: use ISO 8601, e.g. 2025-01-01T00:00:00Z") from None


def export_command(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="file to write (.gz compresses); default stdout"
    ),
    type_: str | None = typer.Option(None, "--type", help="only events of this type"),
    channel: str | None = typer.Option(None, "--channel", help="only this channel"),
    workspace: str | None = typer.Option(None, "--workspace", help="only this workspace"),
    created_after: str | None = typer.Option(
        None, "--created-after", help="ISO 8601: created at or after"
    ),
    created_before: str | None = typer.Option(
        None, "--created-before", help="ISO 8601: created at or before"
    ),
    after: str | None = typer.Option(
        None, "--after", help="an event id: only later ids (incremental archives)"
    ),
) -> None:
    """Write every matching event as NDJSON (one camelCase Event per line, ascending id)."""
    leaves: list[Filter] = []
    for field, value in (("type", type_), ("channel_id", channel), ("workspace_id", workspace)):
        if value is not None:
            leaves.append(Compare(field, "eq", value))
    if (lower := _datetime(created_after, option="--created-after")) is not None:
        leaves.append(Compare("created_at", "gte", lower))
    if (upper := _datetime(created_before, option="--created-before")) is not None:
        leaves.append(Compare("created_at", "lte", upper))
    query_filter = And(tuple(leaves))
    sink: IO[bytes]
    if output is None:
        sink = sys.stdout.buffer
    elif output.suffix == ".gz":
        sink = cast(IO[bytes], gzip.open(output, "wb"))  # noqa: SIM115 - closed below
    else:
        sink = output.open("wb")
    show = output is not None and _stderr.is_terminal

    async def run(db: Database) -> int:
        count = 0
        with Progress(
            SpinnerColumn(),
            TextColumn("exporting"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_stderr,
            disable=not show,
        ) as progress:
            task = progress.add_task("export", total=None)
            async for batch in export_events(
                db=db, scope=ADMIN_SCOPE, query_filter=query_filter, after_id=after
            ):
                sink.write(b"".join(ndjson_line(row) for row in batch))
                count += len(batch)
                progress.update(task, completed=count)
        return count

    try:
        count = _run(run)
    finally:
        if output is not None:
            sink.close()
        else:
            sink.flush()
    if output is not None:
        typer.echo(f"exported {count} events to {output}", err=True)


def _lines(handle: IO[bytes], advance: Callable[[int], None]) -> Iterator[bytes]:
    for line in handle:
        advance(len(line))
        yield line


def import_command(
    file: Path = typer.Argument(..., help="NDJSON archive (.gz accepted); - for stdin"),
    public: bool = typer.Option(
        False, "--public-channels", help="create missing channels public (default private)"
    ),
) -> None:
    """Restore an NDJSON archive losslessly; ids already stored are skipped."""
    handle: IO[bytes]
    if str(file) == "-":
        handle, total = sys.stdin.buffer, None
    else:
        if not file.is_file():
            raise typer.BadParameter(f"{file} is not a file")
        is_gzip = file.suffix == ".gz"
        handle = cast(IO[bytes], gzip.open(file, "rb") if is_gzip else file.open("rb"))  # noqa: SIM115
        total = None if is_gzip else file.stat().st_size

    async def run(db: Database) -> str:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=_stderr,
            disable=not _stderr.is_terminal,
        ) as progress:
            task = progress.add_task("import", total=total)
            result = await import_events(
                db=db,
                lines=_lines(handle, lambda n: progress.advance(task, n)),
                private_channels=not public,
            )
        return (
            f"imported {result.imported} events, skipped {result.skipped} already present"
            f" (created {result.workspaces_created} workspaces,"
            f" {result.channels_created} channels)"
        )

    try:
        summary = _run(run)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    typer.echo(summary, err=True)


def purge_command(
    before: str = typer.Option(..., "--before", help="ISO 8601: delete events created before"),
    batch_size: int = typer.Option(1000, min=1, help="events deleted per transaction"),
) -> None:
    """Delete events created before a date (export them first to keep an archive)."""
    cutoff = _datetime(before, option="--before")
    assert cutoff is not None
    deleted = _run(lambda db: purge_before(db=db, before=cutoff, batch_size=batch_size))
    typer.echo(f"deleted {deleted} events created before {cutoff.isoformat()}")
