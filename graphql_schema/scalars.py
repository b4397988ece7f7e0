"""The custom scalars: ``DateTime`` (UTC, milliseconds, ``Z``) and ``JSON`` (any JSON value)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from graphql import ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

from db.types import format_datetime, to_millis


def parse_datetime(value: object) -> datetime:
    """ISO 8601 to an aware UTC datetime truncated to milliseconds; naive means UTC."""
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"DateTime {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return to_millis(parsed)


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


def _parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return value_from_ast_untyped(node, variables)


_JSON = strawberry.scalar(
    name="JSON",
    description="Any JSON value: object, array, string, number, boolean or null.",
    serialize=_identity,
    parse_value=_identity,
    parse_literal=_parse_json_literal,
)

SCALARS: dict[object, ScalarDefinition] = {DateTime: _DATETIME, JSON: _JSON}
"""The ``scalar_map`` of the schema config."""
