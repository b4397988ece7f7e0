"""Read use-cases over events: pages, totals, lookups. Every read takes a ``ReadScope``.

INTERFACE CONTRACT (implemented by the query-engine work; GraphQL and REST call these).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from db.query.ast import TRUE, Filter, OrderKey

EventRow = Mapping[str, Any]
"""A row of ``events`` as a mapping with snake_case column keys (``created_at`` is an aware
datetime, ``data``/``meta`` decoded JSON)."""


@dataclass(frozen=True, slots=True)
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


@dataclass(slots=True)
class EventPage:
    rows: list[EventRow]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


# --- Signatures every caller relies on (the query-engine work implements the bodies) ---
#
# async def list_events(*, db: Database, scope: ReadScope, query: EventQuery,
#                       page: PageRequest, max_page_size: int, offset: int = 0) -> EventPage
#     One SQL statement per page (first+1 / last+1 rows for exact hasNext/hasPrevious).
#     Raises app.errors.BadInput (with .path such as "after", "first") for bad arguments,
#     a cursor from another orderBy/filter, first+last together, sizes out of range.
# async def count_events(*, db, scope, query: EventQuery) -> int
#     COUNT(*) of matching readable events, ignoring paging.
# async def get_events(*, db, scope, ids: Sequence[str]) -> dict[str, EventRow]
#     Readable events among ids (one statement); missing/unreadable ids are absent.
# async def list_related_events(*, db, scope, group_field: Literal["parent_id",
#                       "channel_id", "workspace_id"], keys: Sequence[str], query: EventQuery,
#                       page: PageRequest, max_page_size: int) -> dict[str, EventPage]
#     One statement for all keys (window function per key): children / Channel.events /
#     Workspace.events connections batched across a page of parents.
# async def count_related_events(*, db, scope, group_field, keys, query) -> dict[str, int]
