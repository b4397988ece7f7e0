"""What the fast path may serve, read off the Strawberry types rather than listed by hand.

A scalar field is rendered from the row column of its Python name only when Strawberry
would resolve it the same way: a plain attribute (no resolver), no arguments, no
permission, no field extension. On ``Event`` that column must be one of the event fields
(``db/event_fields.py``) and be rendered as its kind says; ``tests/db/test_event_fields.py``
holds the two lists equal. The relations are the to-one resolvers the fast path
replaces with one scope-aware batched lookup by ``<name>_id`` (what their loaders do);
they too are served only while they carry no permission or extension. Every other field
— a new resolver, a permission added later, a field of another kind — is absent from
these tables, so a document selecting it falls back to Strawberry by construction.
"""

from __future__ import annotations

import dataclasses

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from app.events.read import Relation, RenderKind
from db.event_fields import BY_COLUMN, RELATION_COLUMNS, EventField
from graphql_schema.cost import CostBudget
from graphql_schema.hardening import DocumentLimits
from graphql_schema.metrics import OperationMetrics
from graphql_schema.operation_context import OperationContext
from graphql_schema.schema import schema

# Schema extensions whose effect the fast path reproduces (limits, metrics) or that have
# none on a result (caches). Any other extension turns the fast path off.
_REPRODUCED_EXTENSIONS = (
    OperationContext,  # acts on WebSocket operations only; the fast path serves HTTP
    OperationMetrics,
    DocumentLimits,
    CostBudget,  # execute_plan checks the same budget and falls back past it
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)


def _strawberry_fields(type_name: str) -> dict[str, StrawberryField]:
    definition = schema.get_type_by_name(type_name)
    origin = getattr(definition, "origin", None)
    object_definition = get_object_definition(origin, strict=True)
    convert = schema.config.name_converter.get_graphql_name
    return {convert(field): field for field in object_definition.fields}


def _plain(field: StrawberryField) -> bool:
    return not (field.permission_classes or field.extensions or field.arguments)


def _kind(type_name: str, field_name: str) -> RenderKind | None:
    graphql_type = schema._schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    of_type = graphql_type.fields[field_name].type
    if isinstance(of_type, GraphQLNonNull):
        of_type = of_type.of_type
    if not isinstance(of_type, GraphQLScalarType):
        return None
    return "datetime" if of_type.name == "DateTime" else "plain"


def _scalars(type_name: str) -> dict[str, tuple[str, RenderKind]]:
    """GraphQL field → (row key, how to render) for the attribute-resolved scalars."""
    table: dict[str, tuple[str, RenderKind]] = {}
    for name, field in _strawberry_fields(type_name).items():
        kind = _kind(type_name, name)
        # A field with a default is set by the general path (``Event.replayed`` by a
        # subscription), not read from a row column: documents selecting it fall back.
        from_row = field.default is dataclasses.MISSING
        if kind is not None and field.base_resolver is None and _plain(field) and from_row:
            table[name] = (field.python_name, kind)
    return table


def render_kind(field: EventField) -> RenderKind:
    return "datetime" if field.kind == "datetime" else "plain"


def _event_scalars() -> dict[str, tuple[str, RenderKind]]:
    """``Event``'s served scalars: its event fields, rendered as the field's kind says. A
    field the list does not know, or whose GraphQL type disagrees with it, falls back."""
    return {
        name: (key, kind)
        for name, (key, kind) in _scalars("Event").items()
        if key in BY_COLUMN and render_kind(BY_COLUMN[key]) == kind
    }


def _relations() -> dict[str, tuple[Relation, str]]:
    """Event field → (relation, target type) for the unguarded to-one relations."""
    event = schema._schema.get_type("Event")
    assert isinstance(event, GraphQLObjectType)
    fields = _strawberry_fields("Event")
    table: dict[str, tuple[Relation, str]] = {}
    for relation in RELATION_COLUMNS:
        if _plain(fields[relation]):
            target = event.fields[relation].type
            assert isinstance(target, GraphQLObjectType)
            table[relation] = (relation, target.name)
    return table


def _guarded(type_names: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """(type, field) pairs carrying a permission or an extension."""
    return frozenset(
        (type_name, name)
        for type_name in type_names
        for name, field in _strawberry_fields(type_name).items()
        if field.permission_classes or field.extensions
    )


def _extension_type(extension: object) -> object:
    if isinstance(extension, type):
        return extension
    return type(extension() if callable(extension) else extension)


SCALARS = {"Event": _event_scalars(), **{name: _scalars(name) for name in ("Channel", "Workspace")}}
RELATIONS = _relations()
GUARDED = _guarded(("Query", "EventConnection", "EventEdge", "PageInfo"))
ENABLED = all(
    _extension_type(extension) in _REPRODUCED_EXTENSIONS for extension in schema.extensions
)
"""False when the schema runs an extension the fast path would skip."""


def _flags(type_name: str) -> dict[str, str]:
    """GraphQL field → Python name of the plain Boolean attributes the general path sets
    from its caller rather than from the row (``Event.replayed``, set by a subscription)."""
    return {
        name: field.python_name
        for name, field in _strawberry_fields(type_name).items()
        if field.default is not dataclasses.MISSING
        and field.base_resolver is None
        and _plain(field)
        and _kind(type_name, name) == "plain"
        and field.type is bool
    }


FLAGS = _flags("Event")
