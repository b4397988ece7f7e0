"""Workspace, channel and token records as clients see them (camelCase, ISO 8601 times):
the management API, the CLI's ``--json`` output and archive manifests share these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from db.event_fields import camel_name
from db.types import format_datetime

WORKSPACE_FIELDS = ("id", "name", "created_at")
CHANNEL_FIELDS = ("id", "name", "workspace_id", "private", "strict_types", "schemas", "created_at")
TOKEN_FIELDS = (
    "id",
    "name",
    "kind",
    "channel_ids",
    "workspace_ids",
    "publisher_id",
    "publisher_name",
    "expires_at",
    "revoked_at",
    "created_at",
)


def camel_record(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` of ``row`` in camelCase; times formatted, sets sorted."""
    shaped: dict[str, Any] = {}
    for column in fields:
        value = row.get(column)
        if isinstance(value, datetime):
            value = format_datetime(value)
        elif isinstance(value, frozenset | set | tuple):
            value = sorted(value)
        shaped[camel_name(column)] = value
    return shaped
