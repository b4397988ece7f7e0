"""Workspace rows: lookup and insert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError

from db.database import ReadConn, WriteConn
from db.repositories.errors import DuplicateKeyError
from db.tables import workspaces_table

WorkspaceRow = Mapping[str, Any]
"""A row of ``workspaces``: ``id``, ``name``, ``created_at``."""


async def get_workspace(conn: ReadConn | WriteConn, workspace_id: str) -> WorkspaceRow | None:
    result = await conn.execute(
        select(workspaces_table).where(workspaces_table.c.id == workspace_id)
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def workspace_exists(conn: ReadConn | WriteConn, workspace_id: str) -> bool:
    result = await conn.execute(select(exists().where(workspaces_table.c.id == workspace_id)))
    return bool(result.scalar())


async def existing_workspace_ids(conn: ReadConn | WriteConn, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    result = await conn.execute(
        select(workspaces_table.c.id).where(workspaces_table.c.id.in_(sorted(set(ids))))
    )
    return set(result.scalars())


async def insert_workspace(conn: WriteConn, row: Mapping[str, Any]) -> WorkspaceRow:
    """Insert ``row``; raises ``DuplicateKeyError`` when the id is taken."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(workspaces_table).values(dict(row)))
    except IntegrityError as exc:
        raise DuplicateKeyError(str(row.get("id"))) from exc
    return dict(row)
