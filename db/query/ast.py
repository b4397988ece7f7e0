"""The query language shared by every layer: filters and orderings as frozen values.

GraphQL inputs and REST parameters convert into these values (``to_query()``); the SQL
compiler (``filter_sql``) and the in-memory evaluator (``filter_memory``) interpret them
with the same two-valued semantics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeAlias

from db import event_fields

Entity = Literal["event", "channel", "workspace"]

# Operators on a scalar column. ``isNull`` takes a bool; ``in``/``notIn`` a tuple.
ScalarOp = Literal[
    "eq",
    "neq",
    "in",
    "notIn",
    "lt",
    "lte",
    "gt",
    "gte",
    "like",
    "ilike",
    "startsWith",
    "endsWith",
    "contains",
    "isNull",
]
ScalarValue: TypeAlias = str | bool | datetime | None
JsonDocOp = Literal["contains", "hasKey", "hasAnyKeys", "hasAllKeys", "isNull"]
JsonPathOp = Literal["eq", "neq", "in", "lt", "lte", "gt", "gte", "exists"]
Quantifier = Literal["some", "every", "none"]

# Columns each entity can be filtered on, and which of them can be NULL.
EVENT_FIELDS = event_fields.FILTERABLE
CHANNEL_FIELDS = ("id", "name", "workspace_id", "private", "created_at")
WORKSPACE_FIELDS = ("id", "name", "created_at")
NOT_NULL_FIELDS: dict[Entity, frozenset[str]] = {
    "event": frozenset(c for c in EVENT_FIELDS if not event_fields.BY_COLUMN[c].nullable),
    "channel": frozenset(CHANNEL_FIELDS),
    "workspace": frozenset(WORKSPACE_FIELDS),
}


@dataclass(frozen=True, slots=True)
class And:
    """True when every item is true; ``And(())`` is true."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """True when any item is true; ``Or(())`` is false."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The exact complement of ``item`` (NULLs included)."""

    item: Filter


@dataclass(frozen=True, slots=True)
class Compare:
    """``field op value`` on a column of the current entity; false on NULL except
    ``neq``/``notIn`` (true on NULL) and ``isNull``."""

    field: str
    op: ScalarOp
    value: ScalarValue | tuple[ScalarValue, ...]


@dataclass(frozen=True, slots=True)
class JsonDoc:
    """A whole-document JSON test on ``data`` or ``meta``.

    ``contains`` is PostgreSQL ``@>`` containment; ``hasKey``/``hasAnyKeys``/``hasAllKeys``
    look at top-level object keys; ``isNull`` is true for SQL NULL and JSON null.
    """

    field: Literal["data", "meta"]
    op: JsonDocOp
    value: Any


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A test of the value at ``path`` (object keys; digit steps also index arrays).

    ``exists`` is true when the path resolves (even to JSON null). Comparisons between
    different JSON types are false; ``lt``..``gte`` compare numbers numerically and
    strings by code point, and are false on booleans, null, arrays and objects.
    ``neq`` is ``NOT eq`` (true when the path is missing).
    """

    field: Literal["data", "meta"]
    path: tuple[str, ...]
    op: JsonPathOp
    value: Any


@dataclass(frozen=True, slots=True)
class Related:
    """A filter over a related row.

    From an event: ``parent`` (the readable parent matches), ``channel``, ``workspace``,
    ``children`` (with a quantifier over readable children). From a channel:
    ``workspace``, ``events`` (quantified). ``every`` is true when there are none.
    """

    relation: Literal["parent", "children", "channel", "workspace", "events"]
    filter: Filter
    quantifier: Quantifier | None = None


Filter: TypeAlias = And | Or | Not | Compare | JsonDoc | JsonPath | Related

TRUE: Filter = And(())
FALSE: Filter = Or(())

Direction = Literal["asc", "desc"]
Nulls = Literal["first", "last"]


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One sort key. ``asc`` defaults to nulls last, ``desc`` to nulls first."""

    field: str
    direction: Direction
    nulls: Nulls

    @classmethod
    def parse(cls, field: str, direction: str) -> OrderKey:
        """From a SortDirection name such as ``desc_nulls_last``."""
        base, _, placement = direction.partition("_nulls_")
        if base not in ("asc", "desc") or placement not in ("", "first", "last"):
            raise ValueError(f"unknown sort direction {direction!r}")
        nulls = placement or ("last" if base == "asc" else "first")
        return cls(field, base, nulls)  # type: ignore[arg-type]


DEFAULT_ORDER: tuple[OrderKey, ...] = (
    OrderKey("created_at", "desc", "first"),
    OrderKey("id", "desc", "first"),
)


def normalize_order(keys: tuple[OrderKey, ...]) -> tuple[OrderKey, ...]:
    """Default when empty; append ``id`` in the last key's direction when absent."""
    if not keys:
        return DEFAULT_ORDER
    if any(key.field == "id" for key in keys):
        return keys
    last = keys[-1].direction
    return (*keys, OrderKey("id", last, "last" if last == "asc" else "first"))
