"""Read use-cases over events: pages, totals, lookups. Every read takes a ``ReadScope``.

GraphQL resolvers, loaders and REST routes call these; each opens one short read
connection and runs one statement per page (see ``db/repositories/events.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from app.errors import BadInput
from app.events.checked_query import CHECKED
from db.database import Database, ReadConn
from db.query.ast import TRUE, Filter, OrderKey
from db.query.filter_sql import UnsupportedFilterError
from db.query.keyset import InvalidCursorError, decode_cursor, encode_cursor
from db.query.order import UnknownOrderFieldError
from db.query.scope import ReadScope
from db.repositories import events as repo

EventRow = Mapping[str, Any]
"""A row of ``events`` as a mapping with snake_case column keys (``created_at`` is an aware
datetime, ``data``/``meta`` decoded JSON)."""


@dataclass(frozen=True, slots=True, weakref_slot=True)
class EventQuery:
    """What to read: a filter, an order (normalised by the engine) and an optional id list."""

    filter: Filter = TRUE
    order: tuple[OrderKey, ...] = ()
    ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Relay arguments, already validated for type; the engine validates the rest."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


class LazyCursors(Sequence[str]):
    """Cursors encoded on first access: most pages only ever read the end cursor."""

    def __init__(self, rows: Sequence[EventRow], order: tuple[OrderKey, ...], bound: str) -> None:
        self._rows, self._order, self._bound = rows, order, bound
        self._done: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self._rows))[index]]
        index = range(len(self._rows))[index]
        if index not in self._done:
            self._done[index] = encode_cursor(self._rows[index], self._order, self._bound)
        return self._done[index]


@dataclass(slots=True)
class EventPage:
    rows: list[EventRow]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool
    extra: dict[str, Any] = field(default_factory=dict)
    total: int | None = None
    """All matching readable events, when asked for (``with_total``)."""
    related: dict[str, dict[str, EventRow]] = field(default_factory=dict)
    """Relation → readable target rows by id, for the relations asked for (``related``)."""
    nodes: list[str] | None = None
    """Each row's node as JSON text, when the database built them (``node``)."""

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


GroupField = Literal["parent_id", "channel_id", "workspace_id"]
Relation = repo.Relation
Related = repo.Related
related_columns = repo.related_columns
NodeShape = repo.NodeShape
NodeField = repo.NodeField
NodeRelation = repo.NodeRelation
RenderKind = repo.RenderKind


@dataclass(frozen=True, slots=True)
class _Plan:
    order: tuple[OrderKey, ...]
    bound: str
    window: repo.Window


def _size(value: int | None, name: str, max_page_size: int) -> int | None:
    if value is not None and not 0 <= value <= max_page_size:
        raise BadInput(f"{name} must be between 0 and {max_page_size}", path=name)
    return value


def _plan(query: EventQuery, page: PageRequest, max_page_size: int, offset: int) -> _Plan:
    order, bound = CHECKED.get(query)
    if page.first is not None and page.last is not None:
        raise BadInput("first and last cannot be used together", path="last")
    first = _size(page.first, "first", max_page_size)
    last = _size(page.last, "last", max_page_size)
    if offset < 0:
        raise BadInput("offset must not be negative", path="offset")
    if offset and (last is not None or page.after is not None or page.before is not None):
        raise BadInput("offset cannot be combined with cursors or last", path="offset")
    values = {}
    for name in ("after", "before"):
        cursor = getattr(page, name)
        if cursor is not None:
            try:
                values[name] = decode_cursor(cursor, order, bound)
            except InvalidCursorError as exc:
                raise BadInput(f"invalid cursor: {exc}", path=name) from exc
    default = min(100, max_page_size)
    window = repo.Window(
        order=order,
        limit=last if last is not None else (first if first is not None else default),
        from_end=last is not None,
        after=values.get("after"),
        before=values.get("before"),
        offset=offset,
    )
    return _Plan(order, bound, window)


def _event_page(found: repo.RowsPage, plan: _Plan) -> EventPage:
    rows: list[EventRow] = list(found.rows)
    cursors = LazyCursors(rows, plan.order, plan.bound)
    return EventPage(rows, cursors, found.has_next_page, found.has_previous_page)


def _bad_filter(exc: Exception) -> BadInput:
    return BadInput(str(exc), path="filter")


async def list_events(
    *,
    db: Database,
    scope: ReadScope,
    query: EventQuery,
    page: PageRequest,
    max_page_size: int,
    offset: int = 0,
    raw_json: bool = False,
    with_total: bool = False,
    related: Related = (),
    node: NodeShape | None = None,
) -> EventPage:
    """A Relay page of readable events (one SQL statement, exact hasNext/hasPrevious).

    ``offset`` (REST admin API) skips rows of the same order; it excludes cursors/``last``.
    ``raw_json`` returns ``data``/``meta`` as JSON text, for responses that embed it as is.
    ``with_total`` also counts every matching readable event (``EventPage.total``), read
    from the same snapshot as the page: the total counts exactly the events the page was
    cut from, never fewer than it shows, whatever is published or deleted meanwhile.
    ``related`` (``related_columns``) also reads the given columns of the readable
    targets of those to-one relations of the page's rows (``EventPage.related``; the
    targets ``get_events`` / ``get_channels`` / ``get_workspaces`` return), joined in the
    page statement. ``node`` (its relations among ``related``) asks for each row's node
    as JSON text in that shape (``EventPage.nodes``), which PostgreSQL builds; on
    SQLite it is ignored (``nodes`` stays ``None``, rows and ``related`` are as usual).
    Raises ``BadInput`` (path ``first``/``last``/``after``/``before``/``offset``/``ids``/
    ``filter...``) for bad arguments or a cursor issued for another order or filter.
    """
    plan = _plan(query, page, max_page_size, offset)

    async def read(conn: ReadConn) -> tuple[repo.RowsPage, int | None]:
        found = await repo.page(
            conn, scope=scope, filter=query.filter, ids=query.ids, window=plan.window,
            raw_json=raw_json, related=related, node=node,
        )  # fmt: skip
        total = None
        if with_total:
            total = await repo.count(conn, scope=scope, filter=query.filter, ids=query.ids)
        return found, total

    try:
        found, total = await db.run_read(read, snapshot=with_total)
    except (UnsupportedFilterError, UnknownOrderFieldError) as exc:
        raise _bad_filter(exc) from exc
    result = _event_page(found, plan)
    result.total = total
    result.related = found.related
    result.nodes = found.nodes
    return result


async def get_events(*, db: Database, scope: ReadScope, ids: Sequence[str]) -> dict[str, EventRow]:
    """Readable events among ``ids`` (one statement); missing or unreadable ids are absent."""

    async def read(conn: ReadConn) -> dict[str, EventRow]:
        return dict(await repo.get_many(conn, scope=scope, ids=ids))

    return await db.run_read(read)


async def list_related_events(
    *,
    db: Database,
    scope: ReadScope,
    group_field: GroupField,
    keys: Sequence[str],
    query: EventQuery,
    page: PageRequest,
    max_page_size: int,
) -> dict[str, EventPage]:
    """A page per key (children / Channel.events / Workspace.events) in one statement."""
    plan = _plan(query, page, max_page_size, 0)
    if not keys:
        return {}
    try:
        async with db.read() as conn:
            found = await repo.related_pages(
                conn,
                scope=scope,
                group_field=group_field,
                keys=keys,
                filter=query.filter,
                window=plan.window,
            )
    except (UnsupportedFilterError, UnknownOrderFieldError) as exc:
        raise _bad_filter(exc) from exc
    return {key: _event_page(rows, plan) for key, rows in found.items()}


async def count_related_events(
    *,
    db: Database,
    scope: ReadScope,
    group_field: GroupField,
    keys: Sequence[str],
    query: EventQuery,
) -> dict[str, int]:
    """Matching readable events per key of ``group_field`` (0 for keys without any)."""
    CHECKED.get(query)
    try:
        async with db.read() as conn:
            return await repo.count_related(
                conn, scope=scope, group_field=group_field, keys=keys, filter=query.filter
            )
    except UnsupportedFilterError as exc:
        raise _bad_filter(exc) from exc
