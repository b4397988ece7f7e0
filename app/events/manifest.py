"""Archive manifests: the workspaces and channels of an export, written as the first line
of the archive by ``eventgraph export --with-metadata`` so that ``import`` restores them as
they were (names, privacy, strict types and schemas, creation times)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.errors import BadInput
from app.records import CHANNEL_FIELDS, WORKSPACE_FIELDS, camel_record
from db.database import Database, WriteConn
from db.event_fields import camel_name
from db.repositories import archive as archive_repo

MANIFEST_KEY = "eventgraphManifest"
MANIFEST_VERSION = 1

# Column -> the JSON types its manifest value may have.
_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "workspace_id": (str,),
    "private": (bool,),
    "strict_types": (bool,),
    "schemas": (dict,),
    "created_at": (str,),
}


@dataclass(slots=True)
class Manifest:
    """Stored rows (snake_case columns) to restore."""

    workspaces: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)


async def build_manifest(
    *, db: Database, workspace_id: str | None = None, channel_id: str | None = None
) -> dict[str, Any]:
    """The manifest of an export limited to ``workspace_id`` / ``channel_id`` (all if None)."""
    async with db.read() as conn:
        workspaces, channels = await archive_repo.workspaces_and_channels(
            conn, workspace_id=workspace_id, channel_id=channel_id
        )
    return {
        MANIFEST_KEY: MANIFEST_VERSION,
        "workspaces": [camel_record(row, WORKSPACE_FIELDS) for row in workspaces],
        "channels": [camel_record(row, CHANNEL_FIELDS) for row in channels],
    }


def is_manifest(obj: object) -> bool:
    return isinstance(obj, Mapping) and MANIFEST_KEY in obj


def parse_manifest(obj: Mapping[str, Any], *, path: str) -> Manifest:
    """The rows of a manifest object; ``BadInput`` naming the entry otherwise."""
    if obj.get(MANIFEST_KEY) != MANIFEST_VERSION:
        raise BadInput(f"unknown manifest version {obj.get(MANIFEST_KEY)!r}", path=path)
    return Manifest(
        workspaces=_rows(obj, "workspaces", WORKSPACE_FIELDS, path=path),
        channels=_rows(obj, "channels", CHANNEL_FIELDS, path=path),
    )


def _rows(
    obj: Mapping[str, Any], key: str, fields: tuple[str, ...], *, path: str
) -> list[dict[str, Any]]:
    entries = obj.get(key, [])
    if not isinstance(entries, list):
        raise BadInput(f"{key} must be a list", path=f"{path}.{key}")
    rows = []
    for index, entry in enumerate(entries):
        where = f"{path}.{key}[{index}]"
        if not isinstance(entry, Mapping):
            raise BadInput("must be an object", path=where)
        row: dict[str, Any] = {}
        for column in fields:
            value = entry.get(camel_name(column))
            if not isinstance(value, _TYPES[column]):
                raise BadInput(f"{camel_name(column)} is missing or mistyped", path=where)
            row[column] = value
        try:
            created = datetime.fromisoformat(row["created_at"])
        except ValueError:
            raise BadInput("createdAt is not an ISO 8601 time", path=where) from None
        row["created_at"] = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(
            UTC
        )
        rows.append(row)
    return rows


async def restore_manifest(conn: WriteConn, manifest: Manifest) -> tuple[int, int]:
    """Create the manifest's workspaces and channels that do not exist (existing ones are
    left as they are); returns how many workspaces and channels were created."""
    workspaces = await archive_repo.insert_missing_workspaces(conn, manifest.workspaces)
    channels = await archive_repo.insert_missing_channels(conn, manifest.channels)
    return workspaces, channels
