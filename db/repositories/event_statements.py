"""The statements of event pages, and a cache of them per plan shape.

A page statement depends on the scope, the filter, the id list, the order and which
cursors are given (and which of their values are NULL, since NULLs change the predicate),
never on the cursor values, the page size or the offset: those are bound parameters. So
each shape is built once and then reused with new parameters, and SQLAlchemy finds its
compiled form through the statement's memoized cache key instead of re-deriving it from a
freshly built tree on every request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    select,
    true,
)

from db.event_fields import JSON_COLUMNS, RELATION_COLUMNS, Relation
from db.query.ast import Filter, OrderKey
from db.query.filter_sql import compile_filter
from db.query.keyset import Values, seek
from db.query.order import order_clauses, reverse
from db.query.scope import ReadScope, channel_readable, readable, workspace_readable
from db.repositories.node_json import NodeShape, node_json
from db.tables import channels_view, workspaces_view
from db.tables import events_view as events_table

GroupField = Literal["parent_id", "channel_id", "workspace_id"]
# A relation's target rows and who may read them: the same predicates as the batched
# lookups (``get_many``), so a joined target the caller cannot read comes back as NULLs,
# exactly like a target the lookup leaves out. The page column pointing at them is
# ``RELATION_COLUMNS[relation]``.
_TARGETS: dict[Relation, tuple[FromClause, Callable[..., ColumnElement[bool]]]] = {
    "parent": (events_table, readable),
    "channel": (channels_view, channel_readable),
    "workspace": (workspaces_view, workspace_readable),
}
Related = tuple[tuple[Relation, tuple[str, ...]], ...]
"""To-one relations to join to a page, each with the target columns to read ("id" first)."""


def related_columns(wanted: dict[Relation, set[str]]) -> Related:
    """The canonical (sorted, "id" first) form of relation → wanted target columns."""
    return tuple(
        (relation, ("id", *sorted(wanted[relation] - {"id"}))) for relation in sorted(wanted)
    )


_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class Window:
    """Which slice of the ordered rows to read (values are decoded cursor keys)."""

    order: tuple[OrderKey, ...]
    limit: int
    from_end: bool = False
    after: Values | None = None
    before: Values | None = None
    offset: int = 0

    @property
    def plain(self) -> bool:
        """From either end: nothing lies beyond it, so no EXISTS flags are needed."""
        return self.after is None and self.before is None and not self.offset


_COMPILED: OrderedDict[tuple[ReadScope, str], tuple[ColumnElement[bool], ColumnElement[bool]]]
_COMPILED = OrderedDict()


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
        if len(_COMPILED) > _CACHE_SIZE:
            _COMPILED.popitem(last=False)
    return found


def base(
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


def columns(raw_json: bool) -> list[ColumnElement[Any]]:
    """Every column; with ``raw_json`` the JSON columns come back as their JSON text, for
    callers that embed them in a response without decoding and re-encoding them."""
    e = events_table
    if not raw_json:
        return list(e.c)
    return [cast(c, Text).label(c.name) if c.name in JSON_COLUMNS else c for c in e.c]


def _selected(
    scope: ReadScope,
    order: tuple[OrderKey, ...],
    raw_json: bool,
    related: Related,
    node: NodeShape | None,
) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """The page's source (``events`` with the ``related`` targets joined) and columns:
    every event column and the targets' wanted columns, or, with ``node``, the node's
    JSON text (``node_json``) and only the columns that cursors read (``id``, the order)."""
    source, targets, aliases = _joined(scope, related)
    if node is None:
        return source, [*columns(raw_json), *targets]
    e = events_table
    names = dict.fromkeys(["id", *(key.field for key in order)])
    return source, [*(e.c[name] for name in names), node_json(node, e, aliases)]


def related_label(relation: Relation, column: str) -> str:
    """The page column holding ``column`` of the ``relation`` target joined to each row."""
    return f"{relation}__{column}"


def _joined(
    scope: ReadScope, related: Related
) -> tuple[FromClause, list[ColumnElement[Any]], dict[Relation, FromClause]]:
    """``events`` LEFT JOINed to each readable relation target, the wanted columns, and
    the joined targets by relation."""
    source: FromClause = events_table
    selected: list[ColumnElement[Any]] = []
    aliases: dict[Relation, FromClause] = {}
    for relation, names in related:
        view, rule = _TARGETS[relation]
        target = aliases[relation] = view.alias(f"rel_{relation}")
        on = and_(target.c.id == events_table.c[RELATION_COLUMNS[relation]], rule(scope, target))
        source = source.outerjoin(target, on)
        selected += [target.c[name].label(related_label(relation, name)) for name in names]
    return source, selected, aliases


def branch(
    scope: ReadScope,
    f: Filter,
    ids: Sequence[str] | None,
    window: Window,
    number: int,
    group: tuple[GroupField, str] | None = None,
    raw_json: bool = False,
    limit: int | ColumnElement[int] | None = None,
    offset: int | ColumnElement[int] | None = None,
    related: Related = (),
    node: NodeShape | None = None,
) -> Select[Any]:
    """The page with ``_prev``/``_next`` flags computed over a one-row relation LEFT JOINed
    to it, so they are known even when the page is empty. ``limit``/``offset`` default to
    the window's (``limit + 1`` rows: one more says there is a next page). ``related``
    targets come as extra columns (``related_label``); ``node`` as in ``_selected``."""
    e = events_table
    where = base(scope, f, ids, group)
    order = window.order
    scan = reverse(order) if window.from_end else order
    conditions = list(where)
    if window.after is not None:
        conditions.append(seek(order, window.after, e))
    if window.before is not None:
        conditions.append(seek(reverse(order), window.before, e))
    terms = order_clauses(scan, e)
    position = func.row_number().over(order_by=terms).label("_pos")
    source, selected = _selected(scope, order, raw_json, related, node)
    page = (
        select(*selected, position)
        .select_from(source)
        .where(*conditions)
        .order_by(*terms)
        .limit(window.limit + 1 if limit is None else limit)
        .offset((window.offset or None) if offset is None else offset)
        .subquery("page")
    )
    # Rows at or before ``after`` (or skipped by the offset), and at or after ``before``.
    prev: ColumnElement[Any] = literal(False)
    if window.after is not None:
        before_after = seek(reverse(order), window.after, e, inclusive=True)
        prev = select(e.c.id).where(*where, before_after).exists()
    elif window.offset > 0:
        prev = select(e.c.id).where(*where).exists()
    following: ColumnElement[Any] = literal(False)
    if window.before is not None:
        after_before = seek(order, window.before, e, inclusive=True)
        following = select(e.c.id).where(*where, after_before).exists()
    one = select(literal(1).label("one")).subquery("one")
    # Columns named as text (with their types for result processing): going through
    # ``page.c`` would build a proxy per column on every request.
    named = [literal_column(f"page.{c.name}", c.type).label(c.name) for c in selected]
    return select(
        literal(number).label("_branch"),
        prev.label("_prev"),
        following.label("_next"),
        *named,
        literal_column("page._pos").label("_pos"),
    ).select_from(one.outerjoin(page, true()))


_LIMIT = bindparam("_limit", type_=BigInteger)
_OFFSET = bindparam("_offset", type_=BigInteger)
_STATEMENTS: OrderedDict[tuple[Any, ...], Select[Any]] = OrderedDict()


def _placeholders(prefix: str, order: tuple[OrderKey, ...], values: Values | None) -> Any:
    if values is None:
        return None
    return tuple(
        None if value is None else bindparam(f"{prefix}{n}", type_=events_table.c[key.field].type)
        for n, (key, value) in enumerate(zip(order, values, strict=True))
    )


def _parameters(prefix: str, values: Values | None) -> dict[str, Any]:
    if values is None:
        return {}
    return {f"{prefix}{n}": value for n, value in enumerate(values) if value is not None}


def _shape(values: Values | None) -> tuple[bool, ...] | None:
    return None if values is None else tuple(value is None for value in values)


def _build(
    scope: ReadScope,
    f: Filter,
    ids: Sequence[str] | None,
    window: Window,
    raw_json: bool,
    related: Related,
    node: NodeShape | None,
) -> Select[Any]:
    e = events_table
    if window.plain:
        scan = reverse(window.order) if window.from_end else window.order
        source, selected = _selected(scope, window.order, raw_json, related, node)
        return (
            select(*selected)
            .select_from(source)
            .where(*base(scope, f, ids))
            .order_by(*order_clauses(scan, e))
            .limit(_LIMIT)
        )
    template = Window(
        order=window.order,
        limit=window.limit,
        from_end=window.from_end,
        after=_placeholders("_a", window.order, window.after),
        before=_placeholders("_b", window.order, window.before),
        offset=window.offset,
    )
    offset = _OFFSET if window.offset else None
    stmt = branch(
        scope, f, ids, template, 0,
        raw_json=raw_json, limit=_LIMIT, offset=offset, related=related, node=node,
    )  # fmt: skip
    # ORDER BY the output column: no wrapping subquery whose columns would need proxying.
    return stmt.order_by(literal_column("_pos"))


def page_statement(
    scope: ReadScope,
    f: Filter,
    ids: Sequence[str] | None,
    window: Window,
    raw_json: bool,
    related: Related = (),
    node: NodeShape | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of one page (``window.plain``: bare rows; else with the flags of
    ``branch``), with the ``related`` targets joined (``node``: rows of the node's JSON
    text and the cursor columns, PostgreSQL only), and its parameters. Keyed by
    ``repr(f)`` as ``scoped_filter`` is."""
    key = (
        scope,
        repr(f),
        None if ids is None else tuple(ids),
        window.order,
        window.from_end,
        _shape(window.after),
        _shape(window.before),
        window.offset > 0,
        raw_json,
        related,
        node,
    )
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _build(scope, f, ids, window, raw_json, related, node)
        _STATEMENTS[key] = stmt
        if len(_STATEMENTS) > _CACHE_SIZE:
            _STATEMENTS.popitem(last=False)
    else:
        _STATEMENTS.move_to_end(key)
    params = {"_limit": window.limit + 1, **_parameters("_a", window.after)}
    params.update(_parameters("_b", window.before))
    if window.offset:
        params["_offset"] = window.offset
    return stmt, params
