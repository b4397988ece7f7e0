"""Values past the input limits, shared by the REST and GraphQL limit tests."""

from __future__ import annotations

import base64
from typing import Any

import orjson

OVERFLOW = "0001-01-01T00:00:00+14:00"
"""A valid ISO 8601 instant whose UTC value is before year 1."""


def nested(depth: int, leaf: Any, key: str = "a") -> Any:
    """``leaf`` inside ``depth`` objects: ``{"a": {"a": leaf}}`` for 2."""
    value = leaf
    for _ in range(depth):
        value = {key: value}
    return value


def with_overflow_date(cursor: str) -> str:
    """A keyset cursor whose date values are replaced by ``OVERFLOW``."""
    payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["k"] = [{"d": OVERFLOW} if isinstance(k, dict) else k for k in payload["k"]]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
