"""SQL constructs that render differently per database: JSON tests and Unicode lower-casing.

The filter compiler stays dialect-free by emitting these elements; each compiles to native
PostgreSQL operators (``@>``, ``?|``, ``#>``; GIN-indexable) or to SQLite functions registered
in ``db/engine.py`` that run ``db.query.semantics`` — the in-memory evaluator's code.
Python values are part of the cache key, so compile-time bind values are always current.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Numeric,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from db.query import semantics


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


class unicode_lower(FunctionElement[str]):  # noqa: N801 - a SQL function name
    """Unicode lower-casing on both databases (SQLite's ``lower`` folds ASCII only)."""

    type = Text()
    inherit_cache = True
    name = "unicode_lower"


@compiles(unicode_lower, "sqlite")
def _lower_sqlite(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "postgresql")
def _lower_pg(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "und-x-icu")'


class JsonTest(ColumnElement[bool]):
    """A two-valued test on a JSON column (``kind``: contains, has_any, has_all, path)."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("kind", InternalTraversal.dp_string),
        ("payload", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[Any], kind: str, payload: Any) -> None:
        self.column = column
        self.kind = kind
        self.payload = payload


@compiles(JsonTest, "sqlite")
def _json_sqlite(element: JsonTest, compiler: SQLCompiler, **kw: Any) -> str:
    col = element.column
    expr: ColumnElement[Any]
    if element.kind == "contains":
        expr = func.eg_json_contains(col, literal(element.payload, Text))
    elif element.kind in ("has_any", "has_all"):
        mode = "any" if element.kind == "has_any" else "all"
        keys = json_text(list(element.payload))
        expr = func.eg_json_has_keys(col, literal(keys, Text), literal(mode, Text))
    else:
        path, op, value = element.payload
        spec = json_text([list(path), op, orjson.loads(value)])
        expr = func.eg_json_path(col, literal(spec, Text))
    return f"({compiler.process(expr, **kw)})"


def _pg_path_test(col: ColumnElement[Any], path: tuple[str, ...], op: str, value: Any) -> Any:
    def at(steps: tuple[str, ...]) -> ColumnElement[Any]:
        return col.op("#>", return_type=JSONB)(literal(list(steps), ARRAY(Text)))

    found = at(path)
    # #> would read "-1" or " 1" as an array index; such steps must only address objects.
    guards = [
        func.coalesce(func.jsonb_typeof(at(path[:i])) == "object", false())
        for i, step in enumerate(path)
        if semantics.pg_reads_as_index(step)
    ]
    if op == "exists":
        exists = and_(*guards, found.is_not(None))
        return exists if value else not_(exists)
    if op in ("eq", "neq", "in"):
        values = value if op == "in" else [value]
        if not values:
            return false()
        candidates = [cast(literal(json_text(v), Text), JSONB) for v in values]
        test = and_(*guards, found.is_not(None), or_(*(found == c for c in candidates)))
        return not_(test) if op == "neq" else test
    kind = semantics.json_kind(value)
    operator = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
    if kind == "number":
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        compared = cast(found, Numeric).op(operator, is_comparison=True)(literal(number, Numeric))
    elif kind == "string":
        path_text = literal(list(path), ARRAY(Text))
        as_text = col.op("#>>", return_type=Text)(path_text).collate("C")
        compared = as_text.op(operator, is_comparison=True)(literal(value, Text))
    else:
        return false()
    return and_(*guards, case((func.jsonb_typeof(found) == kind, compared), else_=false()))


@compiles(JsonTest, "postgresql")
def _json_pg(element: JsonTest, compiler: SQLCompiler, **kw: Any) -> str:
    col = element.column
    expr: Any
    if element.kind == "contains":
        expr = col.op("@>", is_comparison=True)(cast(literal(element.payload, Text), JSONB))
    elif element.kind in ("has_any", "has_all"):
        operator = "?|" if element.kind == "has_any" else "?&"
        keys = literal(list(element.payload), ARRAY(Text))
        expr = and_(func.jsonb_typeof(col) == "object", col.op(operator, is_comparison=True)(keys))
    else:
        path, op, value = element.payload
        expr = _pg_path_test(col, path, op, orjson.loads(value))
    # Parenthesised: the element is one operand to NOT/AND/OR around it.
    return f"({compiler.process(expr, **kw)})"


def json_contains(col: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return and_(col.is_not(None), JsonTest(col, "contains", json_text(value)))


def json_has_keys(col: ColumnElement[Any], keys: tuple[str, ...], mode: str) -> ColumnElement[bool]:
    return and_(col.is_not(None), JsonTest(col, f"has_{mode}", tuple(sorted(set(keys)))))


def json_path(
    col: ColumnElement[Any], path: tuple[str, ...], op: str, value: Any
) -> ColumnElement[bool]:
    return JsonTest(col, "path", (tuple(path), op, json_text(value)))


def json_is_null(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL NULL or JSON null."""
    return or_(col.is_(None), func.coalesce(JsonTest(col, "path", ((), "eq", "null")), false()))


class OneOf(ColumnElement[bool]):
    """``column IN (values)`` for a filter's ``in``: on PostgreSQL ``column = ANY(:array)``
    (what the server makes of an IN list anyway, so the same plan and index), one bound
    parameter that needs no per-execution rendering of an expanding IN list; elsewhere
    ``IN``. Only text values take the array form (the column's collation applies)."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a comparison: no "= 1" where booleans are not native
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, column: ColumnElement[Any], values: tuple[Any, ...]) -> None:
        self.column = column
        self.values = values


@compiles(OneOf)
def _one_of(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.values), **kw)


@compiles(OneOf, "postgresql")
def _one_of_pg(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    values = element.values
    if not all(isinstance(value, str) for value in values):
        return compiler.process(element.column.in_(values), **kw)
    array = bindparam(None, list(values), type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


def is_one_of(col: ColumnElement[Any], values: list[str], dialect: str) -> ColumnElement[bool]:
    """``col IN (values)``. On PostgreSQL ``col = ANY(:array)``: one statement text and one
    parameter whatever the count, so neither SQLAlchemy nor asyncpg re-renders or re-prepares
    it per distinct list length (relation lookups of a page vary in length every time)."""
    if dialect == "postgresql":
        return col == any_(bindparam(None, values, type_=ARRAY(Text)))
    return col.in_(values)
