"""The custom scalars: ``DateTime`` (UTC, milliseconds, ``Z``) and ``JSON`` (any JSON value)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import strawberry
from graphql import (
    EnumValueNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    value_from_ast_untyped,
)
from strawberry.types.scalar import ScalarDefinition

from app.errors import BadInput
from app.json_input import check_value
from db.types import format_datetime, parse_instant


def _bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def parse_datetime(value: object) -> datetime:
    """ISO 8601 to an aware UTC datetime truncated to milliseconds; naive means UTC."""
    if not isinstance(value, str):
        raise _bad_input(f"DateTime must be an ISO 8601 string, got {type(value).__name__}")
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise _bad_input(f"DateTime {value!r} is not an ISO 8601 date-time ({exc})") from None


def _serialize_datetime(value: datetime) -> str:
    return format_datetime(value)


DateTime = NewType("DateTime", datetime)
JSON = NewType("JSON", object)

_DATETIME = strawberry.scalar(
    name="DateTime",
    description=(
        "A UTC instant as ISO 8601 with milliseconds and `Z` (`2024-05-01T12:00:00.000Z`)."
        " Inputs accept any ISO 8601 date-time; an offset is converted to UTC, a value"
        " without an offset is taken as UTC, and precision beyond milliseconds is truncated."
    ),
    serialize=_serialize_datetime,
    parse_value=parse_datetime,
)


def _identity(value: Any) -> Any:
    return value


def _parse_json_value(value: Any) -> Any:
    """A variable's value (already strict JSON from ``app.json_input``) within the limits."""
    try:
        check_value(value, path=None)
    except BadInput as error:
        message = error.message  # relative to the value: not the argument's path
    else:
        return value
    raise _bad_input(message)


def _literal(node: ValueNode, variables: dict[str, Any] | None) -> Any:
    # The parser bounds a document's nesting, so this recursion is bounded too.
    if isinstance(node, ObjectValueNode):
        return {field.name.value: _literal(field.value, variables) for field in node.fields}
    if isinstance(node, ListValueNode):
        return [_literal(item, variables) for item in node.values]
    if isinstance(node, EnumValueNode):
        raise _bad_input(
            f"{node.value} is not a JSON value (quote strings; NaN and Infinity are not JSON)"
        )
    return value_from_ast_untyped(node, variables)


def _parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return _parse_json_value(_literal(node, variables))


_JSON = strawberry.scalar(
    name="JSON",
    description=(
        "Any JSON value: object, array, string, number, boolean or null, nested at most 32"
        " levels. Numbers are finite (no NaN or Infinity); integers fit in 64 bits."
    ),
    serialize=_identity,
    parse_value=_parse_json_value,
    parse_literal=_parse_json_literal,
)

SCALARS: dict[object, ScalarDefinition] = {DateTime: _DATETIME, JSON: _JSON}
"""The ``scalar_map`` of the schema config."""
