"""Workspace reads for GraphQL: the ``workspaces`` connection and lookups by id, scoped.

A workspace is readable by admins, when it is in the caller's scope, or when it holds a
channel the caller can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.channels.read import Page, list_listed
from app.events.read import PageRequest
from db.database import Database, ReadConn
from db.query.ast import Filter
from db.query.scope import ReadScope
from db.repositories import listing


async def list_workspaces(
    *,
    db: Database,
    scope: ReadScope,
    filter: Filter | None,
    page: PageRequest,
    max_page_size: int,
) -> Page:
    """Readable workspaces matching ``filter``, by id; ``BadInput`` for bad paging/cursors."""
    return await list_listed(
        entity="workspace",
        db=db,
        scope=scope,
        filter=filter,
        page=page,
        max_page_size=max_page_size,
    )


async def get_workspaces(
    *, db: Database, scope: ReadScope, ids: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """Readable workspaces among ``ids`` (one statement); others are absent."""

    async def read(conn: ReadConn) -> dict[str, Mapping[str, Any]]:
        return dict(await listing.get_many(conn, entity="workspace", scope=scope, ids=ids))

    return await db.run_read(read)
