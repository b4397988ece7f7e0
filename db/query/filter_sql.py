"""The SQL interpreter of the query language: AST -> a two-valued ``WHERE`` predicate.

Every leaf is TRUE or FALSE, never NULL: comparisons on nullable columns are guarded with
``col IS NOT NULL AND ...`` (index-friendly, unlike ``coalesce``), so ``NOT`` is an exact
complement and ``neq``/``notIn`` are true on NULL. The row of ``table`` is assumed readable
(the caller ANDs ``readable(scope)``); relations to other rows apply readability themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, false, not_, or_, true

from db.query import dialect_sql, semantics
from db.query.ast import (
    CHANNEL_FIELDS,
    EVENT_FIELDS,
    NOT_NULL_FIELDS,
    WORKSPACE_FIELDS,
    And,
    Compare,
    Entity,
    Filter,
    JsonDoc,
    JsonPath,
    Not,
    Or,
)
from db.query.scope import ReadScope

FIELDS: dict[Entity, tuple[str, ...]] = {
    "event": EVENT_FIELDS,
    "channel": CHANNEL_FIELDS,
    "workspace": WORKSPACE_FIELDS,
}
STRING_OPS = frozenset({"like", "ilike", "startsWith", "endsWith", "contains"})


class UnsupportedFilterError(ValueError):
    """A filter node that does not apply to the entity (a bug in the input conversion)."""


def _guard(
    col: ColumnElement[Any], nullable: bool, test: ColumnElement[bool]
) -> ColumnElement[bool]:
    return and_(col.is_not(None), test) if nullable else test


def _compare(f: Compare, entity: Entity, table: FromClause) -> ColumnElement[bool]:
    if f.field not in FIELDS[entity]:
        raise UnsupportedFilterError(f"{entity} has no field {f.field!r}")
    col = table.c[f.field]
    nullable = f.field not in NOT_NULL_FIELDS[entity]
    op, value = f.op, f.value
    if op == "isNull":
        return col.is_(None) if value else col.is_not(None)
    if op == "neq":
        return not_(_compare(Compare(f.field, "eq", value), entity, table))
    if op == "notIn":
        return not_(_compare(Compare(f.field, "in", value), entity, table))
    if op == "in":
        assert isinstance(value, tuple)
        if not value:
            return false()
        return _guard(col, nullable, dialect_sql.OneOf(col, value))
    if op in STRING_OPS:
        if not isinstance(value, str):
            raise UnsupportedFilterError(f"{op} takes a string")
        if op == "ilike":
            pattern = semantics.canonical_like(value)
            lowered = dialect_sql.unicode_lower(col)
            matched: ColumnElement[bool] = lowered.like(
                dialect_sql.unicode_lower(pattern), escape="\\"
            )
            return _guard(col, nullable, matched)
        if op == "like":
            pattern = semantics.canonical_like(value)
        else:
            literal = semantics.escape_like(value)
            pattern = {
                "startsWith": literal + "%",
                "endsWith": "%" + literal,
                "contains": "%" + literal + "%",
            }[op]
        return _guard(col, nullable, col.like(pattern, escape="\\"))
    test: ColumnElement[bool] = {
        "eq": col.__eq__,
        "lt": col.__lt__,
        "lte": col.__le__,
        "gt": col.__gt__,
        "gte": col.__ge__,
    }[op](value)
    return _guard(col, nullable, test)


def _json_doc(f: JsonDoc, table: FromClause) -> ColumnElement[bool]:
    col = table.c[f.field]
    if f.op == "isNull":
        test = dialect_sql.json_is_null(col)
        return test if f.value else not_(test)
    if f.op == "contains":
        return dialect_sql.json_contains(col, f.value)
    keys: tuple[str, ...] = (f.value,) if f.op == "hasKey" else tuple(f.value)
    if not keys:
        return false() if f.op == "hasAnyKeys" else true()
    return dialect_sql.json_has_keys(col, keys, "any" if f.op == "hasAnyKeys" else "all")


def _json_path(f: JsonPath, table: FromClause) -> ColumnElement[bool]:
    col = table.c[f.field]
    value = list(f.value) if f.op == "in" else f.value
    if f.op == "in" and not value:
        return false()
    return dialect_sql.json_path(col, tuple(f.path), f.op, value)


def compile_filter(
    f: Filter, entity: Entity, table: FromClause, scope: ReadScope
) -> ColumnElement[bool]:
    """``f`` over rows of ``table`` (the entity's table or an alias of it)."""
    if isinstance(f, And):
        if not f.items:
            return true()
        return and_(*(compile_filter(i, entity, table, scope) for i in f.items))
    if isinstance(f, Or):
        if not f.items:
            return false()
        return or_(*(compile_filter(i, entity, table, scope) for i in f.items))
    if isinstance(f, Not):
        return not_(compile_filter(f.item, entity, table, scope))
    if isinstance(f, Compare):
        return _compare(f, entity, table)
    if isinstance(f, JsonDoc | JsonPath):
        if entity != "event":
            raise UnsupportedFilterError(f"{entity} has no JSON fields")
        return _json_doc(f, table) if isinstance(f, JsonDoc) else _json_path(f, table)
    from db.query.relations_sql import compile_related

    return compile_related(f, entity, table, scope)
