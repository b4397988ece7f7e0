"""Connection arguments (``filter``, ``orderBy``, ``ids``, ``first``...) as read requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from strawberry import UNSET

from app.errors import BadInput
from app.events.read import EventQuery, PageRequest
from db.query.ast import TRUE
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy, order_to_query
from graphql_schema.inputs.limits import MAX_IDS

T = TypeVar("T")


def given(value: T | None) -> T | None:
    """``None`` for an absent (``UNSET``) or null argument."""
    return None if value is UNSET else value


FILTER = "Only events matching this filter (absent: all readable events)."
ORDER_BY = (
    "Sort keys, first key first; default `[{createdAt: desc}, {id: desc}]`. `id` is"
    " appended as the final tie-breaker when absent."
)
IDS = "Only these event ids (at most 100), within what the caller can read."
FIRST = "Page size counting from the start (or from `after`); 0 gives no edges."
AFTER = "A cursor from this connection with the same `orderBy` and `filter`."
LAST = "Page size counting from the end (or from `before`); not with `first`."
BEFORE = "A cursor from this connection with the same `orderBy` and `filter`."


def event_query(
    filter: EventFilter | None,
    order_by: list[EventOrderBy] | None,
    ids: Sequence[str] | None = None,
) -> EventQuery:
    """The ``EventQuery`` of connection arguments (``None``/``UNSET`` mean absent)."""
    filter, order_by, ids = given(filter), given(order_by), given(ids)
    if ids and len(ids) > MAX_IDS:
        raise BadInput(f"ids: at most {MAX_IDS} ids are allowed", path="ids")
    return EventQuery(
        filter=filter.to_query("filter") if filter else TRUE,
        order=order_to_query(order_by or None, "orderBy"),
        ids=tuple(ids) if ids is not None else None,
    )


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(
        first=given(first), after=given(after), last=given(last), before=given(before)
    )
