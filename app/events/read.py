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


__all__ = ["EventPage", "EventQuery", "EventRow", "PageRequest", "Sequence"]
