"""Event reads: keyset pages, grouped pages, counts and lookups — all under a ``ReadScope``.

A page is ONE statement. When ``hasPreviousPage``/``hasNextPage`` need to know about rows
outside the window (rows at or before ``after``, at or after ``before``), they are EXISTS
columns of that same statement, computed over a one-row relation LEFT JOINed to the page,
so they are known even when the page is empty. Grouped pages (children, Channel.events,
Workspace.events) are one such branch per key, glued with UNION ALL, each branch using the
(group column, created_at, id) indexes with its own LIMIT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, union_all

from db.database import ReadConn
from db.event_fields import Relation as Relation
from db.query.ast import Filter
from db.query.dialect_sql import is_one_of
from db.query.scope import ReadScope, readable
from db.repositories import event_counts
from db.repositories.driver_fetch import fetch_rows
from db.repositories.event_statements import GroupField as GroupField
from db.repositories.event_statements import Related as Related
from db.repositories.event_statements import Window as Window
from db.repositories.event_statements import (
    base,
    branch,
    page_statement,
    related_label,
)
from db.repositories.event_statements import related_columns as related_columns
from db.repositories.event_statements import scoped_filter as scoped_filter
from db.repositories.node_json import NODE_LABEL
from db.repositories.node_json import NodeField as NodeField
from db.repositories.node_json import NodeRelation as NodeRelation
from db.repositories.node_json import NodeShape as NodeShape
from db.repositories.node_json import RenderKind as RenderKind
from db.tables import events_view as events_table

Row = dict[str, Any]
Target = Mapping[str, Any]
# SQLite caps compound SELECTs at 500 terms; stay well below.
MAX_BRANCHES = 200


@dataclass(slots=True)
class RowsPage:
    rows: list[Row]
    has_next_page: bool
    has_previous_page: bool
    related: dict[str, dict[str, Target]] = field(default_factory=dict)
    """Relation → readable target rows by id (``page(related=...)``)."""
    nodes: list[str] | None = None
    """Each row's node as JSON text, when the database built them (``page(node=...)``)."""


def _targets(rows: Sequence[Any], related: Related) -> dict[str, dict[str, Target]]:
    """The joined target columns of each row, gathered per relation and target id."""
    found: dict[str, dict[str, Target]] = {}
    for relation, names in related:
        targets: dict[str, Target] = {}
        labels = [(name, related_label(relation, name)) for name in names]
        key = related_label(relation, "id")
        for row in rows:
            target_id = row[key]
            if target_id is not None and target_id not in targets:
                targets[target_id] = {name: row[label] for name, label in labels}
        found[relation] = targets
    return found


def _split(rows: Sequence[Any], window: Window) -> RowsPage:
    # Rows keep the helper columns (_branch, _prev, ...): readers use the event columns.
    found = [row for row in rows if row["id"] is not None]
    prev = bool(rows and rows[0]["_prev"])
    following = bool(rows and rows[0]["_next"])
    overflow = len(found) > window.limit
    found = found[: window.limit]
    if window.from_end:
        found.reverse()
        return RowsPage(found, has_next_page=following, has_previous_page=overflow or prev)
    return RowsPage(found, has_next_page=overflow or following, has_previous_page=prev)


async def page(
    conn: ReadConn,
    *,
    scope: ReadScope,
    filter: Filter,
    ids: Sequence[str] | None,
    window: Window,
    raw_json: bool = False,
    related: Related = (),
    node: NodeShape | None = None,
) -> RowsPage:
    """One page of readable events matching ``filter`` in ``window``, with the wanted
    columns of the readable targets of the ``related`` to-one relations of its rows
    (joined in the same statement). With ``node`` (its relations among ``related``) on
    PostgreSQL, the rows hold only the cursor columns and ``RowsPage.nodes`` the JSON
    text of each node instead (``node_json``); elsewhere ``node`` is ignored."""
    if conn.dialect.name != "postgresql":
        node = None
    stmt, params = page_statement(scope, filter, ids, window, raw_json, related, node)
    rows: list[Any] = list(await fetch_rows(conn, stmt, params))
    if not window.plain:
        found = _split(rows, window)
    else:
        # A bare index scan with a LIMIT: only the extra row says there is more.
        overflow = len(rows) > window.limit
        del rows[window.limit :]
        if window.from_end:
            rows.reverse()
        found = RowsPage(
            rows,
            has_next_page=overflow and not window.from_end,
            has_previous_page=overflow and window.from_end,
        )
    if node is not None:
        found.nodes = [row[NODE_LABEL] for row in found.rows]
    elif related:
        found.related = _targets(found.rows, related)
    return found


async def related_pages(
    conn: ReadConn,
    *,
    scope: ReadScope,
    group_field: GroupField,
    keys: Sequence[str],
    filter: Filter,
    window: Window,
) -> dict[str, RowsPage]:
    """A page per key of ``group_field`` (one statement per ``MAX_BRANCHES`` keys)."""
    unique = list(dict.fromkeys(keys))
    result: dict[str, RowsPage] = {}
    for start in range(0, len(unique), MAX_BRANCHES):
        chunk = unique[start : start + MAX_BRANCHES]
        branches = [
            branch(scope, filter, None, window, n, (group_field, key))
            for n, key in enumerate(chunk)
        ]
        union = union_all(*branches).subquery("u")
        stmt = select(union).order_by(union.c._branch, union.c._pos)
        rows = (await conn.execute(stmt)).mappings().all()
        grouped: dict[int, list[Any]] = {n: [] for n in range(len(chunk))}
        for row in rows:
            grouped[row["_branch"]].append(row)
        for n, key in enumerate(chunk):
            result[key] = _split(grouped[n], window)
    return result


async def count(
    conn: ReadConn, *, scope: ReadScope, filter: Filter, ids: Sequence[str] | None
) -> int:
    """Readable events matching ``filter`` (no paging): from the per-channel counters when
    the filter is at most channel/workspace equality, else COUNT(*)."""
    if ids is None and (counted := event_counts.counted(filter)) is not None:
        return await event_counts.total(conn, scope=scope, **counted)
    stmt = select(func.count()).select_from(events_table).where(*base(scope, filter, ids))
    return int((await conn.execute(stmt)).scalar_one())


async def count_related(
    conn: ReadConn,
    *,
    scope: ReadScope,
    group_field: GroupField,
    keys: Sequence[str],
    filter: Filter,
) -> dict[str, int]:
    """Counts per key of ``group_field``; keys without matches count 0."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    col = events_table.c[group_field]
    stmt = (
        select(col, func.count()).where(*base(scope, filter, None), col.in_(unique)).group_by(col)
    )
    counts = dict.fromkeys(unique, 0)
    for key, n in (await conn.execute(stmt)).all():
        counts[key] = int(n)
    return counts


async def get_many(conn: ReadConn, *, scope: ReadScope, ids: Sequence[str]) -> dict[str, Row]:
    """Readable events among ``ids``; others are absent."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    e = events_table
    one_of = is_one_of(e.c.id, unique, conn.dialect.name)
    stmt = select(*e.c).where(one_of, readable(scope, e))
    return {row["id"]: dict(row) for row in (await conn.execute(stmt)).mappings()}
