"""``eventgraph export``, ``import`` and ``purge``: NDJSON archives and retention by hand."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import typer

from app.cli.common import JSON_OPTION, emit, parse_time, run_with_database

if TYPE_CHECKING:
    from db.database import Database

GZIP_MAGIC = b"\x1f\x8b"


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


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
    with_metadata: bool = typer.Option(
        False,
        "--with-metadata",
        help="first line: a manifest of the workspaces and channels (restored by import)",
    ),
) -> None:
    """Write every matching event as NDJSON (one camelCase Event per line, ascending id)."""
    import orjson
    from rich.console import Console
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from app.events.archive import export_events, ndjson_line
    from app.events.manifest import build_manifest
    from db.query.ast import And, Compare, Filter
    from db.query.scope import ADMIN_SCOPE

    leaves: list[Filter] = []
    for field, value in (("type", type_), ("channel_id", channel), ("workspace_id", workspace)):
        if value is not None:
            leaves.append(Compare(field, "eq", value))
    if created_after is not None:
        leaves.append(
            Compare("created_at", "gte", parse_time(created_after, option="--created-after"))
        )
    if created_before is not None:
        upper = parse_time(created_before, option="--created-before")
        leaves.append(Compare("created_at", "lte", upper))
    query_filter = And(tuple(leaves))
    sink: IO[bytes]
    if output is None:
        sink = sys.stdout.buffer
    elif output.suffix == ".gz":
        sink = cast(IO[bytes], gzip.open(output, "wb"))  # noqa: SIM115 - closed below
    else:
        sink = output.open("wb")

    async def run(db: Database) -> int:
        if with_metadata:
            manifest = await build_manifest(db=db, workspace_id=workspace, channel_id=channel)
            sink.write(orjson.dumps(manifest) + b"\n")
        count = 0
        with Progress(
            SpinnerColumn(),
            TextColumn("exporting"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=output is None or not _stderr_is_terminal(),
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
        count = run_with_database(run)
    finally:
        if output is not None:
            sink.close()
        else:
            sink.flush()
    if output is not None:  # stdout carries the archive itself
        typer.echo(f"exported {count} events to {output}", err=True)


def _archive_reader(raw: IO[bytes]) -> IO[bytes]:
    """``raw``, decompressed when it starts like gzip (files and standard input alike)."""
    buffered = (
        raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw))
    )
    if buffered.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered))
    return buffered


def _lines(handle: IO[bytes], advance: Callable[[int], None]) -> Iterator[bytes]:
    for line in handle:
        advance(len(line))
        yield line


def import_command(
    file: Path = typer.Argument(..., help="NDJSON archive, gzip or not; - for stdin"),
    public: bool = typer.Option(
        False, "--public-channels", help="create missing channels public (default private)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore an NDJSON archive losslessly; ids already stored are skipped."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from app.events.archive import ImportResult, import_events

    raw: IO[bytes]
    if str(file) == "-":
        raw, total = sys.stdin.buffer, None
    else:
        if not file.is_file():
            raise typer.BadParameter(f"{file} is not a file")
        raw, total = file.open("rb"), None
    handle = _archive_reader(raw)
    if handle is raw and raw is not sys.stdin.buffer:
        total = file.stat().st_size

    async def run(db: Database) -> ImportResult:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not _stderr_is_terminal(),
        ) as progress:
            task = progress.add_task("import", total=total)
            return await import_events(
                db=db,
                lines=_lines(handle, lambda n: progress.advance(task, n)),
                private_channels=not public,
            )

    try:
        result = run_with_database(run)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()
    emit(
        {
            "imported": result.imported,
            "skipped": result.skipped,
            "workspacesCreated": result.workspaces_created,
            "channelsCreated": result.channels_created,
        },
        f"imported {result.imported} events, skipped {result.skipped} already present"
        f" (created {result.workspaces_created} workspaces, {result.channels_created} channels)",
        as_json=as_json,
    )


def purge_command(
    before: str = typer.Option(..., "--before", help="ISO 8601: delete events created before"),
    batch_size: int = typer.Option(1000, min=1, help="events deleted per transaction"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would go, delete nothing"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete events created before a date (export them first to keep an archive).

    On a terminal it shows how many events would go and asks first (--yes skips that);
    without a terminal (scripts, cron) it deletes without asking.
    """
    from app.events.retention import count_before, purge_before
    from db.types import format_datetime

    cutoff = parse_time(before, option="--before")
    shown = format_datetime(cutoff)
    if dry_run or (not yes and sys.stdin.isatty()):
        count = run_with_database(lambda db: count_before(db=db, before=cutoff))
        if dry_run:
            emit(
                {"wouldDelete": count, "before": shown},
                f"would delete {count} events created before {shown}",
                as_json=as_json,
            )
            return
        typer.confirm(f"delete {count} events created before {shown}?", abort=True, err=True)
    deleted = run_with_database(
        lambda db: purge_before(db=db, before=cutoff, batch_size=batch_size)
    )
    emit(
        {"deleted": deleted, "before": shown},
        f"deleted {deleted} events created before {shown}",
        as_json=as_json,
    )
