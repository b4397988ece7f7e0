"""``db/event_fields.py`` is the one list of event fields: the stored table, the Strawberry
``Event`` type, the query language's inputs and the fast paths' field tables must each
agree with it, so that a field added (or retyped) on one side fails here until the list
knows it."""

from __future__ import annotations

import dataclasses

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, GraphQLType
from sqlalchemy import JSON
from strawberry.types.base import get_object_definition

from db.event_fields import (
    BY_COLUMN,
    EVENT_FIELDS,
    FILTERABLE,
    JSON_COLUMNS,
    POSITION,
    RELATION_COLUMNS,
)
from db.query.ast import EVENT_FIELDS as QUERY_FIELDS
from db.query.ast import NOT_NULL_FIELDS
from db.tables import events_table
from db.types import CodePointText, UtcDateTime
from graphql_schema.fast_path.fields import RELATIONS, SCALARS
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy
from graphql_schema.schema import schema
from graphql_schema.types.event import Event

_COLUMN_TYPES = {"text": CodePointText, "json": JSON, "datetime": UtcDateTime}
_GRAPHQL_SCALARS = {"text": {"String", "ID"}, "json": {"JSON"}, "datetime": {"DateTime"}}


def _graphql_event() -> GraphQLObjectType:
    event = schema._schema.get_type("Event")
    assert isinstance(event, GraphQLObjectType)
    return event


def _scalar(of_type: GraphQLType) -> tuple[str, bool]:
    """(scalar name, nullable) of a field's GraphQL type."""
    nullable = not isinstance(of_type, GraphQLNonNull)
    if isinstance(of_type, GraphQLNonNull):
        of_type = of_type.of_type
    assert isinstance(of_type, GraphQLScalarType), of_type
    return of_type.name, nullable


def test_the_events_table_stores_the_fields_and_the_position() -> None:
    stored = [column for column in events_table.c if column.name != POSITION]
    assert [column.name for column in stored] == [f.column for f in EVENT_FIELDS]
    assert POSITION in events_table.c
    for column in stored:
        field = BY_COLUMN[column.name]
        assert column.nullable == field.nullable, column.name
        assert isinstance(column.type, _COLUMN_TYPES[field.kind]), column.name


def test_the_strawberry_event_renders_each_field_from_its_column() -> None:
    definition = get_object_definition(Event, strict=True)
    from_row = {
        f.python_name: f
        for f in definition.fields
        if f.base_resolver is None and f.default is dataclasses.MISSING
    }
    assert set(from_row) == set(BY_COLUMN), "a field of Event not in db/event_fields.py"
    graphql = _graphql_event().fields
    for field in EVENT_FIELDS:
        name, nullable = _scalar(graphql[field.name].type)
        assert name in _GRAPHQL_SCALARS[field.kind], field.column
        assert nullable or not field.nullable, field.column
    assert set(RELATION_COLUMNS) <= set(graphql)


def test_event_from_row_reads_every_field() -> None:
    row = {field.column: f"value of {field.column}" for field in EVENT_FIELDS}
    event = Event.from_row({**row, POSITION: 1})
    assert {column: getattr(event, column) for column in row} == row


def test_the_fast_paths_serve_every_field_as_its_kind() -> None:
    kinds = {"text": "plain", "json": "plain", "datetime": "datetime"}
    assert SCALARS["Event"] == {f.name: (f.column, kinds[f.kind]) for f in EVENT_FIELDS}
    assert {relation for relation, _ in RELATIONS.values()} == set(RELATION_COLUMNS)


def test_the_query_language_filters_and_orders_the_filterable_fields() -> None:
    assert QUERY_FIELDS == FILTERABLE
    assert NOT_NULL_FIELDS["event"] == {c for c in FILTERABLE if not BY_COLUMN[c].nullable}
    # ``data``/``meta`` take JSON filters (a document, not a column comparison).
    expected = {EventFilter: {*FILTERABLE, *JSON_COLUMNS}, EventOrderBy: set(FILTERABLE)}
    for input_type, columns in expected.items():
        inputs = {f.python_name for f in get_object_definition(input_type, strict=True).fields}
        assert inputs & set(BY_COLUMN) == columns, input_type
