"""Channel and workspace connections (keyset by id) and batch lookups, under a ``ReadScope``.

Pages are one statement, with the same one-row LEFT JOIN shape as event pages so that
``hasPreviousPage``/``hasNextPage`` are exact even when the page is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, FromClause, func, literal, select, true

from db.database import ReadConn
from db.query.ast import Filter, OrderKey
from db.query.dialect_sql import is_one_of
from db.query.filter_sql import compile_filter
from db.query.keyset import seek
from db.query.order import order_clauses, reverse
from db.query.scope import ReadScope, channel_readable, workspace_readable
from db.repositories.events import RowsPage, Window
from db.tables import channels_view as channels_table
from db.tables import workspaces_view as workspaces_table

Listed = Literal["channel", "workspace"]
ID_ORDER: tuple[OrderKey, ...] = (OrderKey("id", "asc", "last"),)
_EXTRA = ("_prev", "_next", "_pos")


def _table(entity: Listed) -> FromClause:
    table: FromClause = channels_table if entity == "channel" else workspaces_table
    return table


def _readable(entity: Listed, scope: ReadScope) -> ColumnElement[bool]:
    if entity == "channel":
        return channel_readable(scope, channels_table)
    return workspace_readable(scope, workspaces_table)


async def page(
    conn: ReadConn, *, entity: Listed, scope: ReadScope, filter: Filter, window: Window
) -> RowsPage:
    """One page of readable channels or workspaces matching ``filter``."""
    table = _table(entity)
    base = [_readable(entity, scope), compile_filter(filter, entity, table, scope)]
    order = window.order
    scan = reverse(order) if window.from_end else order
    conditions = list(base)
    if window.after is not None:
        conditions.append(seek(order, window.after, table, entity=entity))
    if window.before is not None:
        conditions.append(seek(reverse(order), window.before, table, entity=entity))
    terms = order_clauses(scan, table, entity)
    rows_sq = (
        select(*table.c, func.row_number().over(order_by=terms).label("_pos"))
        .where(*conditions)
        .order_by(*terms)
        .limit(window.limit + 1)
        .subquery("page")
    )
    prev: ColumnElement[Any] = literal(False)
    if window.after is not None:
        at_or_before = seek(reverse(order), window.after, table, inclusive=True, entity=entity)
        prev = select(table.c.id).where(*base, at_or_before).exists()
    following: ColumnElement[Any] = literal(False)
    if window.before is not None:
        at_or_after = seek(order, window.before, table, inclusive=True, entity=entity)
        following = select(table.c.id).where(*base, at_or_after).exists()
    one = select(literal(1).label("one")).subquery("one")
    stmt = (
        select(prev.label("_prev"), following.label("_next"), *rows_sq.c)
        .select_from(one.outerjoin(rows_sq, true()))
        .order_by(rows_sq.c._pos)
    )
    result = (await conn.execute(stmt)).mappings().all()
    found = [
        {k: v for k, v in row.items() if k not in _EXTRA} for row in result if row["id"] is not None
    ]
    has_prev = bool(result and result[0]["_prev"])
    has_next = bool(result and result[0]["_next"])
    overflow = len(found) > window.limit
    found = found[: window.limit]
    if window.from_end:
        found.reverse()
        return RowsPage(found, has_next_page=has_next, has_previous_page=overflow or has_prev)
    return RowsPage(found, has_next_page=overflow or has_next, has_previous_page=has_prev)


async def get_many(
    conn: ReadConn, *, entity: Listed, scope: ReadScope, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Readable channels or workspaces among ``ids``; others are absent."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    table = _table(entity)
    one_of = is_one_of(table.c.id, unique, conn.dialect.name)
    stmt = select(*table.c).where(one_of, _readable(entity, scope))
    return {row["id"]: dict(row) for row in (await conn.execute(stmt)).mappings()}
