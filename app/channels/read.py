"""Channel reads for GraphQL: the ``channels`` connection and lookups by id, scoped.

A channel is readable by admins, when public, or when it (or its workspace) is in the
caller's scope. Paged by id with keyset cursors bound to the filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.errors import BadInput
from app.events.read import EventPage, PageRequest
from db.database import Database, ReadConn
from db.query.ast import TRUE, Filter
from db.query.filter_sql import UnsupportedFilterError
from db.query.keyset import InvalidCursorError, binding, decode_cursor, encode_cursor
from db.query.limits import FilterLimitError, check_limits
from db.query.scope import ReadScope
from db.repositories import listing
from db.repositories.events import Window

Page = EventPage
"""Rows (plain mappings), cursors and exact page info; the same shape as event pages."""


async def list_listed(
    *,
    entity: listing.Listed,
    db: Database,
    scope: ReadScope,
    filter: Filter | None,
    page: PageRequest,
    max_page_size: int,
) -> Page:
    """A Relay page of readable channels or workspaces ordered by id (shared by both)."""
    f = TRUE if filter is None else filter
    try:
        check_limits(f)
    except FilterLimitError as exc:
        raise BadInput(exc.message, path=exc.path) from exc
    if page.first is not None and page.last is not None:
        raise BadInput("first and last cannot be used together", path="last")
    for name in ("first", "last"):
        size = getattr(page, name)
        if size is not None and not 0 <= size <= max_page_size:
            raise BadInput(f"{name} must be between 0 and {max_page_size}", path=name)
    order = listing.ID_ORDER
    bound = binding(order, f)
    values = {}
    for name in ("after", "before"):
        cursor = getattr(page, name)
        if cursor is not None:
            try:
                values[name] = decode_cursor(cursor, order, bound, entity)
            except InvalidCursorError as exc:
                raise BadInput(f"invalid cursor: {exc}", path=name) from exc
    limit = page.last if page.last is not None else page.first
    window = Window(
        order=order,
        limit=min(100, max_page_size) if limit is None else limit,
        from_end=page.last is not None,
        after=values.get("after"),
        before=values.get("before"),
    )
    try:
        async with db.read() as conn:
            found = await listing.page(conn, entity=entity, scope=scope, filter=f, window=window)
    except UnsupportedFilterError as exc:
        raise BadInput(str(exc), path="filter") from exc
    cursors = [encode_cursor(row, order, bound) for row in found.rows]
    rows: list[Mapping[str, Any]] = list(found.rows)
    return Page(rows, cursors, found.has_next_page, found.has_previous_page)


async def list_channels(
    *,
    db: Database,
    scope: ReadScope,
    filter: Filter | None,
    page: PageRequest,
    max_page_size: int,
) -> Page:
    """Readable channels matching ``filter``, by id; ``BadInput`` for bad paging/cursors."""
    return await list_listed(
        entity="channel",
        db=db,
        scope=scope,
        filter=filter,
        page=page,
        max_page_size=max_page_size,
    )


async def get_channels(
    *, db: Database, scope: ReadScope, ids: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """Readable channels among ``ids`` (one statement); others are absent."""

    async def read(conn: ReadConn) -> dict[str, Mapping[str, Any]]:
        return dict(await listing.get_many(conn, entity="channel", scope=scope, ids=ids))

    return await db.run_read(read)
