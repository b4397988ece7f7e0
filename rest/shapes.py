"""Response shaping: stored rows → each seed's JSON shape, rendered with orjson."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response

from app.events.archive import EVENT_FIELDS, event_json
from app.events.read import EventRow
from db.event_fields import JSON_COLUMNS
from db.types import format_datetime


class JsonResponse(Response):
    """``application/json`` rendered by orjson (datetimes must be formatted beforehand)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def timestamp(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def event_camel(row: EventRow) -> dict[str, Any]:
    """The GraphQL Event scalars in camelCase (``/api/events``, export, webhooks)."""
    return event_json(row)


def event_camel_raw(row: EventRow) -> dict[str, Any]:
    """``event_camel`` of a row read with ``raw_json``: data/meta are embedded as stored."""
    shaped = event_json(row)
    for name in JSON_COLUMNS:
        if shaped[name] is not None:
            shaped[name] = orjson.Fragment(shaped[name])
    return shaped


# Seed 003's event: the stored columns by their own (snake_case) names; the workspace is
# implied by the channel in the URL.
SNAKE_EVENT_FIELDS = tuple(column for _, column in EVENT_FIELDS if column != "workspace_id")


def event_snake(row: EventRow) -> dict[str, Any]:
    """Seed 003's snake_case event, with every stored field (``subject_id``, ``user_id`` and
    ``parent_id`` included, so a publish answers with everything it stored)."""
    shaped = {column: row.get(column) for column in SNAKE_EVENT_FIELDS}
    shaped["created_at"] = timestamp(row["created_at"])
    return shaped


def event_admin(row: EventRow) -> dict[str, Any]:
    """Seed 001's event: ``event`` = type, ``properties`` = data, ``occurredAt`` = createdAt."""
    return {
        "id": row["id"],
        "userId": row.get("user_id"),
        "event": row.get("type"),
        "properties": row.get("data"),
        "occurredAt": timestamp(row["created_at"]),
    }
