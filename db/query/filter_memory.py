"""The in-memory interpreter of the query language (subscriptions, webhooks, replay).

Same two-valued semantics as ``filter_sql``; the hypothesis test in
``tests/db/test_filter_differential.py`` holds the two together. Rows are mappings with
snake_case keys (events: ``id, type, channel_id, ..., created_at, data, meta``).
Relations are looked up through a ``Relations`` object that returns READABLE rows only.
No SQLAlchemy here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from db.query import semantics
from db.query.ast import And, Compare, Entity, Filter, JsonDoc, JsonPath, Not, Or, Related
from db.types import to_millis

Row = Mapping[str, Any]


class Relations(Protocol):
    """Related rows of a row, already restricted to what the reader may read."""

    def parent(self, event: Row) -> Row | None: ...

    def children(self, event: Row) -> Iterable[Row]: ...

    def channel(self, row: Row) -> Row | None: ...

    def workspace(self, row: Row) -> Row | None: ...

    def channel_events(self, channel: Row) -> Iterable[Row]: ...


class NoRelations:
    """For filters without relation tests; any relation lookup is a programming error."""

    def _fail(self, *_: Any) -> Any:
        raise LookupError("this filter needs relations; pass a Relations object")

    parent = children = channel = workspace = channel_events = _fail


def relations_used(f: Filter) -> frozenset[str]:
    """Relation names a filter (at any depth) needs, so callers can prefetch."""
    if isinstance(f, And | Or):
        return frozenset().union(*(relations_used(i) for i in f.items))
    if isinstance(f, Not):
        return relations_used(f.item)
    if isinstance(f, Related):
        return frozenset({f.relation}) | relations_used(f.filter)
    return frozenset()


def _normalize(value: Any) -> Any:
    return to_millis(value) if isinstance(value, datetime) else value


def _compare(row: Row, f: Compare) -> bool:
    actual = _normalize(row.get(f.field))
    op, value = f.op, f.value
    if op == "isNull":
        return (actual is None) == bool(value)
    if op == "neq":
        return not _compare(row, Compare(f.field, "eq", value))
    if op == "notIn":
        return not _compare(row, Compare(f.field, "in", value))
    if actual is None:
        return False
    if op == "in":
        assert isinstance(value, tuple)
        return any(actual == _normalize(v) for v in value)
    value = _normalize(value)
    if op == "eq":
        return bool(actual == value)
    if op == "lt":
        return bool(actual < value)
    if op == "lte":
        return bool(actual <= value)
    if op == "gt":
        return bool(actual > value)
    if op == "gte":
        return bool(actual >= value)
    assert isinstance(actual, str)
    assert isinstance(value, str)
    if op == "like":
        return semantics.like(actual, value)
    if op == "ilike":
        return semantics.ilike(actual, value)
    if op == "startsWith":
        return actual.startswith(value)
    if op == "endsWith":
        return actual.endswith(value)
    if op == "contains":
        return value in actual
    raise ValueError(f"unknown operator {op!r}")


def _json_doc(row: Row, f: JsonDoc) -> bool:
    doc = row.get(f.field)
    if f.op == "isNull":
        return (doc is None) == bool(f.value)
    if f.op in ("hasAnyKeys", "hasAllKeys") and not f.value:
        return f.op == "hasAllKeys"
    if doc is None:
        return False
    if f.op == "contains":
        return semantics.json_contains(doc, f.value)
    if f.op == "hasKey":
        return semantics.has_keys(doc, (f.value,), "all")
    if f.op == "hasAnyKeys":
        return semantics.has_keys(doc, tuple(f.value), "any")
    if f.op == "hasAllKeys":
        return semantics.has_keys(doc, tuple(f.value), "all")
    raise ValueError(f"unknown JSON operator {f.op!r}")


def _json_path(row: Row, f: JsonPath) -> bool:
    doc = row.get(f.field)
    found = semantics.MISSING if doc is None else semantics.resolve_path(doc, f.path)
    return semantics.json_compare(found, f.op, list(f.value) if f.op == "in" else f.value)


def _related(row: Row, f: Related, entity: Entity, relations: Relations) -> bool:
    if f.relation == "parent":
        parent = relations.parent(row) if row.get("parent_id") is not None else None
        return parent is not None and matches(f.filter, parent, "event", relations)
    if f.relation in ("channel", "workspace"):
        target = relations.channel(row) if f.relation == "channel" else relations.workspace(row)
        return target is not None and matches(f.filter, target, f.relation, relations)
    rows = relations.children(row) if f.relation == "children" else relations.channel_events(row)
    hits = (matches(f.filter, r, "event", relations) for r in rows)
    if f.quantifier == "every":
        return all(hits)
    if f.quantifier == "none":
        return not any(hits)
    return any(hits)


def matches(
    f: Filter, row: Row, entity: Entity = "event", relations: Relations | None = None
) -> bool:
    """Whether ``row`` (of ``entity``) satisfies ``f``; always a plain bool."""
    if isinstance(f, And):
        return all(matches(i, row, entity, relations) for i in f.items)
    if isinstance(f, Or):
        return any(matches(i, row, entity, relations) for i in f.items)
    if isinstance(f, Not):
        return not matches(f.item, row, entity, relations)
    if isinstance(f, Compare):
        return _compare(row, f)
    if isinstance(f, JsonDoc):
        return _json_doc(row, f)
    if isinstance(f, JsonPath):
        return _json_path(row, f)
    return _related(row, f, entity, relations or NoRelations())
