"""NDJSON archives: a constant-memory export stream and a lossless, idempotent import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.errors import BadInput
from app.events.manifest import Manifest, is_manifest, parse_manifest, restore_manifest
from app.events.read import EventRow
from app.json_input import check_value, loads
from app.text import check_text
from db import event_fields
from db.database import Database
from db.query.ast import TRUE, Filter
from db.query.scope import ReadScope
from db.repositories import archive as archive_repo
from db.types import format_datetime, parse_instant

EXPORT_BATCH = 500

# camelCase wire name -> column, in the order every Event JSON object is written.
EVENT_FIELDS = tuple((field.name, field.column) for field in event_fields.EVENT_FIELDS)
_REQUIRED = tuple(field.name for field in event_fields.EVENT_FIELDS if not field.nullable)
_OPTIONAL_TEXT = tuple(
    field.name for field in event_fields.EVENT_FIELDS if field.nullable and field.kind == "text"
)
_JSON = tuple(field.name for field in event_fields.EVENT_FIELDS if field.kind == "json")


def event_json(row: EventRow) -> dict[str, Any]:
    """The camelCase Event object (GraphQL scalars) of a stored row."""
    shaped = {name: row[column] for name, column in EVENT_FIELDS}
    created = shaped["createdAt"]
    if isinstance(created, datetime):
        shaped["createdAt"] = format_datetime(created)
    return shaped


def ndjson_line(row: EventRow) -> bytes:
    """One archive line: the Event object, compact, newline-terminated."""
    return orjson.dumps(event_json(row)) + b"\n"


async def export_events(
    *,
    db: Database,
    scope: ReadScope,
    query_filter: Filter = TRUE,
    after_id: str | None = None,
    batch_size: int = EXPORT_BATCH,
) -> AsyncIterator[list[EventRow]]:
    """Every matching readable event with ``id > after_id``, ascending by id, in batches.

    Each batch is read on its own short connection: memory and transaction length stay
    bounded whatever the size of the store.
    """
    last = after_id
    while True:
        async with db.read() as conn:
            rows = await archive_repo.export_batch(
                conn, scope=scope, query_filter=query_filter, after_id=last, limit=batch_size
            )
        if rows:
            yield list(rows)
            last = rows[-1]["id"]
        if len(rows) < batch_size:
            return


@dataclass(slots=True)
class ImportResult:
    imported: int = 0
    skipped: int = 0
    workspaces_created: int = 0
    channels_created: int = 0


def parse_line(line: bytes | str, *, number: int) -> dict[str, Any]:
    """An archive line as an ``events`` row; a ``BadInput`` naming the line otherwise.

    A line holds what publishing accepts: the same JSON intake, text and nesting limits.
    """
    path = f"line {number}"
    obj = loads(line, path=path)
    if not isinstance(obj, dict):
        raise BadInput("not a JSON object", path=path)
    for name in _REQUIRED:
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise BadInput(f"{name} must be a non-empty string", path=path)
    for name in _OPTIONAL_TEXT:
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise BadInput(f"{name} must be a string or null", path=path)
    for name in (*_REQUIRED, *_OPTIONAL_TEXT):
        check_text(obj.get(name), path=f"{path}.{name}")
    for name in _JSON:
        check_value(obj.get(name), path=f"{path}.{name}")
    try:
        created = parse_instant(obj["createdAt"])
    except ValueError as exc:
        raise BadInput(f"createdAt is not an ISO 8601 time ({exc})", path=path) from None
    row = {column: obj.get(name) for name, column in EVENT_FIELDS}
    row["created_at"] = created
    return row


async def import_events(
    *,
    db: Database,
    lines: Iterable[bytes | str],
    batch_size: int = EXPORT_BATCH,
    on_progress: Callable[[int], None] | None = None,
    private_channels: bool = True,
) -> ImportResult:
    """Restore an NDJSON archive: ids, timestamps, parents, publisher and meta as written.

    A manifest first line (``export --with-metadata``) restores workspaces and channels as
    they were. Re-importing skips ids already stored. Workspaces and channels still missing
    are created named after their id (channels private by default, so nothing becomes
    public by accident). Each batch takes new commit positions from the publish counter,
    in file order.
    """
    result = ImportResult()
    batch: list[dict[str, Any]] = []
    in_batch: set[str] = set()
    first = True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if first:
            first = False
            head = loads(line, path=f"line {number}")
            if is_manifest(head):
                await _restore(db, parse_manifest(head, path=f"line {number}"), result)
                continue
        row = parse_line(line, number=number)
        if row["id"] in in_batch:  # earlier batches are caught by the stored-id check
            result.skipped += 1
            continue
        in_batch.add(row["id"])
        batch.append(row)
        if len(batch) >= batch_size:
            await _import_batch(db, batch, result, private_channels=private_channels)
            if on_progress is not None:
                on_progress(len(batch))
            batch, in_batch = [], set()
    if batch:
        await _import_batch(db, batch, result, private_channels=private_channels)
        if on_progress is not None:
            on_progress(len(batch))
    return result


async def _restore(db: Database, manifest: Manifest, result: ImportResult) -> None:
    async with db.transaction() as conn:
        workspaces, channels = await restore_manifest(conn, manifest)
    result.workspaces_created += workspaces
    result.channels_created += channels


async def _import_batch(
    db: Database, batch: list[dict[str, Any]], result: ImportResult, *, private_channels: bool
) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        existing = await archive_repo.existing_event_ids(conn, [row["id"] for row in batch])
        fresh = [row for row in batch if row["id"] not in existing]
        result.skipped += len(batch) - len(fresh)
        if not fresh:
            return
        result.workspaces_created += await archive_repo.insert_missing_workspaces(
            conn,
            [
                {"id": row["workspace_id"], "name": row["workspace_id"], "created_at": now}
                for row in fresh
            ],
        )
        result.channels_created += await archive_repo.insert_missing_channels(
            conn,
            [
                {
                    "id": row["channel_id"],
                    "name": row["channel_id"],
                    "workspace_id": row["workspace_id"],
                    "private": private_channels,
                    "strict_types": False,
                    "schemas": {},
                    "created_at": now,
                }
                for row in fresh
            ],
        )
        first = await archive_repo.reserve_positions(conn, len(fresh))
        await archive_repo.insert_events(
            conn, [_with_seq(row, first + i) for i, row in enumerate(fresh)]
        )
        result.imported += len(fresh)


def _with_seq(row: Mapping[str, Any], seq: int) -> dict[str, Any]:
    return {**row, "seq": seq}
