"""Channel management (admin only): create, update, delete, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.auth.principal import Principal, require_admin
from app.channels.schemas import compile_schema
from app.errors import BadInput, Conflict, NotFound
from app.events import channel_cache
from app.workspaces.service import validate_name, validate_slug
from db.database import Database, WriteConn
from db.repositories import channels as channel_repo
from db.repositories import workspaces as workspace_repo
from db.repositories.channels import ChannelRow
from db.repositories.errors import DuplicateKeyError, MissingReferenceError

MAX_TYPE_LENGTH = 200

__all__ = [
    "ChannelRow",
    "create_channel",
    "delete_channel",
    "find_channel",
    "get_channel",
    "update_channel",
]


def _check_schemas(schemas: Any, *, path: str) -> dict[str, Any]:
    """Every schema compiles; a bad one is ``BadInput`` naming its type."""
    if not isinstance(schemas, Mapping):
        raise BadInput("schemas must be an object mapping event type to JSON Schema", path=path)
    checked: dict[str, Any] = {}
    for type_name, schema in schemas.items():
        if not isinstance(type_name, str) or not type_name or len(type_name) > MAX_TYPE_LENGTH:
            raise BadInput(
                f"event types must be 1-{MAX_TYPE_LENGTH} characters", path=f"{path}.{type_name}"
            )
        compile_schema(schema, type_name=type_name, path=f"{path}.{type_name}")
        checked[type_name] = schema
    return checked


async def _versioned(
    db: Database, conn: WriteConn, channel_id: str
) -> tuple[ChannelRow, str] | None:
    """The channel as this transaction wrote it, with its row version (PostgreSQL, where
    publishes keep channels: ``app/events/channel_cache.py``)."""
    if db.dialect != "postgresql":
        return None
    return await channel_repo.get_channel_versioned(conn, channel_id)


def _keep(db: Database, versioned: tuple[ChannelRow, str] | None) -> None:
    """After the commit: the next publish into the channel in this process reads nothing."""
    if versioned is not None:
        channel_cache.remember(db, *versioned)


async def create_channel(
    *,
    db: Database,
    principal: Principal,
    id: str,
    name: str,
    workspace_id: str,
    private: bool = False,
    strict_types: bool = False,
    schemas: Mapping[str, Any] | None = None,
) -> ChannelRow:
    """Create a channel in an existing workspace; a taken id is a ``Conflict``."""
    require_admin(principal)
    validate_slug(id, path="input.id")
    name = validate_name(name, path="input.name")
    checked = _check_schemas(schemas if schemas is not None else {}, path="input.schemas")
    row = {
        "id": id,
        "name": name,
        "workspace_id": workspace_id,
        "private": bool(private),
        "strict_types": bool(strict_types),
        "schemas": checked,
        "created_at": datetime.now(UTC),
    }
    missing = BadInput(f"workspace {workspace_id!r} does not exist", path="input.workspaceId")
    async with db.transaction() as conn:
        if not await workspace_repo.workspace_exists(conn, workspace_id):
            raise missing
        try:
            created = await channel_repo.insert_channel(conn, row)
        except DuplicateKeyError:
            raise Conflict(f"channel {id!r} already exists", path="input.id") from None
        except MissingReferenceError:
            raise missing from None
        versioned = await _versioned(db, conn, id)
    _keep(db, versioned)
    return created


async def update_channel(
    *,
    db: Database,
    principal: Principal,
    id: str,
    name: str | None = None,
    private: bool | None = None,
    strict_types: bool | None = None,
    schemas: Mapping[str, Any] | None = None,
) -> ChannelRow:
    """Change the given fields (None leaves a field as it is); ``schemas`` replaces the map."""
    require_admin(principal)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = validate_name(name, path="input.name")
    if private is not None:
        values["private"] = bool(private)
    if strict_types is not None:
        values["strict_types"] = bool(strict_types)
    if schemas is not None:
        values["schemas"] = _check_schemas(schemas, path="input.schemas")
    async with db.transaction() as conn:
        row = await channel_repo.update_channel(conn, id, values)
        versioned = await _versioned(db, conn, id) if row is not None else None
    if row is None:
        raise NotFound(f"channel {id!r} not found", path="id")
    _keep(db, versioned)
    return row


async def delete_channel(*, db: Database, principal: Principal, id: str) -> str:
    """Delete a channel and all its events; returns its id."""
    require_admin(principal)
    async with db.transaction() as conn:
        deleted = await channel_repo.delete_channel(conn, id)
    channel_cache.forget(db, id)
    if not deleted:
        raise NotFound(f"channel {id!r} not found", path="id")
    return id


async def get_channel(*, db: Database, principal: Principal, id: str) -> ChannelRow:
    """A channel by id for management (admin only); ``NotFound`` when missing."""
    require_admin(principal)
    row = await find_channel(db=db, id=id)
    if row is None:
        raise NotFound(f"channel {id!r} not found", path="id")
    return row


async def find_channel(*, db: Database, id: str) -> ChannelRow | None:
    """The channel row regardless of the caller, for authorization decisions made by the
    caller itself (e.g. the REST polling route's 401/403 on private channels)."""
    async with db.read() as conn:
        return await channel_repo.get_channel(conn, id)
