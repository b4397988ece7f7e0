"""Plain JSON (a REST query string's ``filter`` / ``orderBy``) through the schema's own inputs.

The value is validated and coerced by graphql-core against the schema's ``EventFilter`` /
``[EventOrderBy!]`` types, converted by Strawberry, then turned into the query AST by the
same ``to_query()`` GraphQL uses: REST rejects exactly what GraphQL rejects, at the same path.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNonNull,
    Undefined,
    coerce_input_value,
    validate_input_value,
)
from strawberry.types.arguments import convert_argument

from app.errors import BadInput
from db.query.ast import TRUE, Filter, OrderKey
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.inputs.event_order import EventOrderBy, order_to_query
from graphql_schema.schema import schema

_FIELD_IN_MESSAGE = re.compile(r"(?:unknown|required) field '(\w+)'")


def format_path(root: str, steps: list[str | int]) -> str:
    """``("filter", ["AND", 1, "type"])`` → ``filter.AND[1].type``."""
    out = root
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


def _input_type(name: str) -> GraphQLInputObjectType:
    graphql_type = schema._schema.get_type(name)
    assert isinstance(graphql_type, GraphQLInputObjectType), name
    return graphql_type


def _coerce(raw: object, graphql_type: GraphQLInputType, root: str) -> Any:
    errors: list[tuple[GraphQLError, list[str | int]]] = []
    validate_input_value(raw, graphql_type, lambda error, steps: errors.append((error, steps)))
    if errors:
        error, steps = errors[0]
        path = format_path(root, steps)
        if match := _FIELD_IN_MESSAGE.search(error.message):
            path = f"{path}.{match.group(1)}"
        raise BadInput(f"{path}: {error.message}", path=path)
    try:
        value = coerce_input_value(raw, graphql_type)
    except (GraphQLError, ValueError, TypeError) as error:  # e.g. a @oneOf with two keys
        message = getattr(error, "message", None) or str(error)
        raise BadInput(f"{root}: {message}", path=root) from None
    if value is Undefined:  # pragma: no cover - validate_input_value reports first
        raise BadInput(f"{root}: invalid value", path=root)
    return value


def _convert(value: Any, python_type: type) -> Any:
    return convert_argument(
        value, python_type, schema.schema_converter.scalar_registry, schema.config
    )


def coerce_filter(raw: object, *, path: str = "filter") -> Filter:
    """A JSON ``EventFilter`` as the query AST; ``None`` means no filter.

    Raises ``BadInput`` naming the path at fault (e.g. ``filter.AND[1].type.eqq``).
    """
    if raw is None:
        return TRUE
    value = _coerce(raw, _input_type("EventFilter"), path)
    event_filter: EventFilter = _convert(value, EventFilter)
    return event_filter.to_query(path)


def coerce_order(raw: object, *, path: str = "orderBy") -> tuple[OrderKey, ...]:
    """A JSON ``[EventOrderBy!]`` (or one object) as sort keys; ``None`` means the default."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raw = [raw]  # like GraphQL, a single object is a list of one
    item_type = GraphQLNonNull(_input_type("EventOrderBy"))
    items: list[EventOrderBy] = [
        _convert(_coerce(item, item_type, f"{path}[{i}]"), EventOrderBy)
        for i, item in enumerate(raw)
    ]
    return order_to_query(items, path)
