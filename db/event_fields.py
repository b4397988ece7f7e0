"""The one list of an event's fields: every other list of them is derived from this one.

Each field is a stored column of ``events`` (``db/tables/events.py`` holds the column
types; ``seq``, the commit-ordered position, is stored but not a field of the event), the
client's camelCase name (GraphQL ``Event``, archives, ``/api/events``), how its value is
encoded, whether it may be null, whether the query language filters and orders on it, and
the to-one relation it points at. ``tests/db/test_event_fields.py`` holds the table, the
Strawberry ``Event`` type and the fast paths' field tables to this list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal["text", "json", "datetime"]
"""``text``: a string; ``json``: any JSON value (``data``, ``meta``); ``datetime``: an
aware UTC time, written as ``format_datetime`` writes it."""
Relation = Literal["parent", "channel", "workspace"]
POSITION = "seq"


@dataclass(frozen=True, slots=True)
class EventField:
    column: str
    kind: FieldKind
    nullable: bool
    filterable: bool
    """A field of the query language (``db/query/ast.py``): filter and order."""
    relation: Relation | None = None
    """The to-one relation whose target's id this column holds."""
    name: str = field(init=False)
    """The camelCase name clients see."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", camel_name(self.column))


def camel_name(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


# In the order every Event JSON object is written (archives, REST, webhooks).
EVENT_FIELDS: tuple[EventField, ...] = (
    EventField("id", "text", nullable=False, filterable=True),
    EventField("type", "text", nullable=True, filterable=True),
    EventField("channel_id", "text", nullable=False, filterable=True, relation="channel"),
    EventField("workspace_id", "text", nullable=False, filterable=True, relation="workspace"),
    EventField("subject_id", "text", nullable=True, filterable=True),
    EventField("user_id", "text", nullable=True, filterable=True),
    EventField("parent_id", "text", nullable=True, filterable=True, relation="parent"),
    EventField("publisher_id", "text", nullable=True, filterable=True),
    EventField("publisher_name", "text", nullable=True, filterable=False),
    EventField("data", "json", nullable=True, filterable=False),
    EventField("meta", "json", nullable=True, filterable=False),
    EventField("created_at", "datetime", nullable=False, filterable=True),
)
BY_COLUMN = {f.column: f for f in EVENT_FIELDS}
JSON_COLUMNS = tuple(f.column for f in EVENT_FIELDS if f.kind == "json")
FILTERABLE_FIELDS = tuple(f for f in EVENT_FIELDS if f.filterable)
FILTERABLE = tuple(f.column for f in FILTERABLE_FIELDS)
RELATION_COLUMNS: dict[Relation, str] = {
    f.relation: f.column for f in EVENT_FIELDS if f.relation is not None
}
