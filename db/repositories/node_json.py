"""A page's nodes as JSON text built by PostgreSQL, in the shape a selection asks for.

The caller describes the object of each row (``NodeShape``: keys in output order, each a
column, a timestamp column, the type's name for ``__typename``, or a to-one relation's
target with its own fields; the fast path renders rows by the same shape in Python) and
the page statement returns it as one text column (``NODE_LABEL``), which the caller
splices into its answer without decoding it. Strings are escaped by ``to_json`` exactly
as the encoder escapes them; timestamps are written as ``format_datetime`` writes them
(milliseconds, truncated, ``Z``); SQL NULL is JSON ``null``; a relation whose target is
missing or unreadable (NULLs from the LEFT JOIN) is ``null``. JSON columns come as
PostgreSQL writes jsonb: the same value, with its spacing. Built as text concatenation
rather than ``json_build_object``, whose output pads every key with spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, FromClause, Text, case, cast, func, literal_column

from db.event_fields import Relation

RenderKind = Literal["plain", "datetime", "typename"]
"""``plain``: the column's value; ``datetime``: a timestamp column, formatted;
``typename``: the fixed string ``key`` (the type's name)."""
NODE_LABEL = "_node"
_UTC_MILLIS = '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\''


@dataclass(frozen=True, slots=True)
class NodeField:
    """``alias``: the column ``key`` rendered as ``kind`` says (``typename``: ``key``)."""

    alias: str
    key: str
    kind: RenderKind


@dataclass(frozen=True, slots=True)
class NodeRelation:
    """``alias``: the readable target of ``relation`` with ``fields``, or ``null``."""

    alias: str
    relation: Relation
    fields: tuple[NodeField, ...]


NodeShape = tuple[NodeField | NodeRelation, ...]
"""Output keys in selection order, each once."""


def _sql_text(value: str) -> ColumnElement[str]:
    """A constant string inlined in the statement (never a parameter)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def _key(alias: str, first: bool) -> str:
    # GraphQL names ([_A-Za-z][_0-9A-Za-z]*) need no escaping as JSON keys.
    return ("{" if first else ",") + '"' + alias + '":'


def _value(field: NodeField, source: FromClause) -> ColumnElement[str]:
    if field.kind == "typename":
        return _sql_text('"' + field.key + '"')
    column = source.c[field.key]
    if field.kind == "datetime":
        utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
        written = func.to_char(utc, literal_column(_UTC_MILLIS), type_=Text)
        return func.coalesce(_sql_text('"') + written + _sql_text('"'), _sql_text("null"))
    return func.coalesce(cast(func.to_json(column), Text), _sql_text("null"))


def _object(fields: tuple[NodeField, ...], source: FromClause) -> list[ColumnElement[str]]:
    parts: list[ColumnElement[str]] = []
    for n, field in enumerate(fields):
        parts += [_sql_text(_key(field.alias, n == 0)), _value(field, source)]
    parts.append(_sql_text("}" if fields else "{}"))
    return parts


def node_json(
    shape: NodeShape, events: FromClause, targets: Mapping[Relation, FromClause]
) -> ColumnElement[str]:
    """The JSON text of each row's node; ``targets`` are the joined relation tables."""
    parts: list[ColumnElement[str]] = []
    for n, item in enumerate(shape):
        parts.append(_sql_text(_key(item.alias, n == 0)))
        if isinstance(item, NodeField):
            parts.append(_value(item, events))
            continue
        target = targets[item.relation]
        inner = func.concat(*_object(item.fields, target), type_=Text)
        parts.append(case((target.c.id.is_(None), _sql_text("null")), else_=inner))
    parts.append(_sql_text("}" if shape else "{}"))
    return func.concat(*parts, type_=Text).label(NODE_LABEL)
