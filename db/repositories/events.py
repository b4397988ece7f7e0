"""Event reads: keyset pages, grouped pages, counts and lookups — all under a ``ReadScope``.

A page is ONE statement. When ``hasPreviousPage``/``hasNextPage`` need to know about rows
outside the window (rows at or before ``after``, at or after ``before``), they are EXISTS
columns of that same statement, computed over a one-row relation LEFT JOINed to the page,
so they are known even when the page is empty. Grouped pages (children, Channel.events,
Workspace.events) are one such branch per key, glued with UNION ALL, each branch using the
(group column, created_at, id) indexes with its own LIMIT.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    cast,
    false,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)

from db.database import ReadConn
from db.query.ast import Filter, OrderKey
from db.query.dialect_sql import is_one_of
from db.query.filter_sql import compile_filter
from db.query.keyset import Values, seek
from db.query.order import order_clauses, reverse
from db.query.scope import ReadScope, readable
from db.repositories import event_counts
from db.tables import events_view as events_table

GroupField = Literal["parent_id", "channel_id", "workspace_id"]
Row = dict[str, Any]
# SQLite caps compound SELECTs at 500 terms; stay well below.
MAX_BRANCHES = 200
_JSON_COLUMNS = frozenset({"data", "meta"})


@dataclass(frozen=True, slots=True)
class Window:
    """Which slice of the ordered rows to read (values are decoded cursor keys)."""

    order: tuple[OrderKey, ...]
    limit: int
    from_end: bool = False
    after: Values | None = None
    before: Values | None = None
    offset: int = 0


@dataclass(slots=True)
class RowsPage:
    rows: list[Row]
    has_next_page: bool
    has_previous_page: bool


_COMPILED: OrderedDict[tuple[ReadScope, str], tuple[ColumnElement[bool], ColumnElement[bool]]]
_COMPILED = OrderedDict()
_COMPILED_SIZE = 1024


def scoped_filter(scope: ReadScope, f: Filter) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The read predicate and the compiled filter. SQL expressions are immutable, so a
    page and its count (and the next request with the same filter) share one build.

    Keyed by ``repr``, not equality: ``True == 1`` in Python, but ``data.path.eq: true``
    and ``eq: 1`` are different filters."""
    key = (scope, repr(f))
    found = _COMPILED.get(key)
    if found is None:
        found = readable(scope, events_table), compile_filter(f, "event", events_table, scope)
        _COMPILED[key] = found
        if len(_COMPILED) > _COMPILED_SIZE:
            _COMPILED.popitem(last=False)
    return found


def _base(
    scope: ReadScope,
    f: Filter,
    ids: Sequence[str] | None,
    group: tuple[GroupField, str] | None = None,
) -> list[ColumnElement[bool]]:
    e = events_table
    clauses = list(scoped_filter(scope, f))
    if ids is not None:
        clauses.append(e.c.id.in_(list(ids)) if ids else false())
    if group is not None:
        clauses.append(e.c[group[0]] == group[1])
    return clauses


def _columns(raw_json: bool) -> list[ColumnElement[Any]]:
    """Every column; with ``raw_json`` the JSON columns come back as their JSON text, for
    callers that embed them in a response without decoding and re-encoding them."""
    e = events_table
    if not raw_json:
        return list(e.c)
    return [cast(c, Text).label(c.name) if c.name in _JSON_COLUMNS else c for c in e.c]


def _branch(
    scope: ReadScope,
    f: Filter,
    ids: Sequence[str] | None,
    window: Window,
    number: int,
    group: tuple[GroupField, str] | None = None,
    raw_json: bool = False,
) -> Select[Any]:
    e = events_table
    base = _base(scope, f, ids, group)
    order = window.order
    scan = reverse(order) if window.from_end else order
    conditions = list(base)
    if window.after is not None:
        conditions.append(seek(order, window.after, e))
    if window.before is not None:
        conditions.append(seek(reverse(order), window.before, e))
    terms = order_clauses(scan, e)
    position = func.row_number().over(order_by=terms).label("_pos")
    page = (
        select(*_columns(raw_json), position)
        .where(*conditions)
        .order_by(*terms)
        .limit(window.limit + 1)
        .offset(window.offset or None)
        .subquery("page")
    )
    # Rows at or before ``after`` (or skipped by the offset), and at or after ``before``.
    prev: ColumnElement[Any] = literal(False)
    if window.after is not None:
        before_after = seek(reverse(order), window.after, e, inclusive=True)
        prev = select(e.c.id).where(*base, before_after).exists()
    elif window.offset > 0:
        prev = select(e.c.id).where(*base).exists()
    following: ColumnElement[Any] = literal(False)
    if window.before is not None:
        after_before = seek(order, window.before, e, inclusive=True)
        following = select(e.c.id).where(*base, after_before).exists()
    one = select(literal(1).label("one")).subquery("one")
    # Columns named as text (with their types for result processing): going through
    # ``page.c`` would build a proxy per column on every request.
    columns = [literal_column(f"page.{c.name}", c.type).label(c.name) for c in _columns(raw_json)]
    return select(
        literal(number).label("_branch"),
        prev.label("_prev"),
        following.label("_next"),
        *columns,
        literal_column("page._pos").label("_pos"),
    ).select_from(one.outerjoin(page, true()))


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
) -> RowsPage:
    """One page of readable events matching ``filter`` in ``window``."""
    if window.after is None and window.before is None and not window.offset:
        return await _plain_page(
            conn, scope=scope, filter=filter, ids=ids, window=window, raw_json=raw_json
        )
    # ORDER BY the output column: no wrapping subquery whose columns would need proxying.
    branch = _branch(scope, filter, ids, window, 0, raw_json=raw_json)
    stmt = branch.order_by(literal_column("_pos"))
    rows = (await conn.execute(stmt)).mappings().all()
    return _split(rows, window)


async def _plain_page(
    conn: ReadConn,
    *,
    scope: ReadScope,
    filter: Filter,
    ids: Sequence[str] | None,
    window: Window,
    raw_json: bool,
) -> RowsPage:
    """A page from either end: nothing lies beyond that end, so no EXISTS flags are needed
    and the statement is a bare index scan with a LIMIT."""
    e = events_table
    scan = reverse(window.order) if window.from_end else window.order
    stmt = (
        select(*_columns(raw_json))
        .where(*_base(scope, filter, ids))
        .order_by(*order_clauses(scan, e))
        .limit(window.limit + 1)
    )
    rows: list[Any] = list((await conn.execute(stmt)).mappings().all())
    overflow = len(rows) > window.limit
    del rows[window.limit :]
    if window.from_end:
        rows.reverse()
        return RowsPage(rows, has_next_page=False, has_previous_page=overflow)
    return RowsPage(rows, has_next_page=overflow, has_previous_page=False)


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
            _branch(scope, filter, None, window, n, (group_field, key))
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
    stmt = select(func.count()).select_from(events_table).where(*_base(scope, filter, ids))
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
        select(col, func.count()).where(*_base(scope, filter, None), col.in_(unique)).group_by(col)
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
