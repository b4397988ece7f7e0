"""Text every database can store: PostgreSQL rejects NUL in text and JSON strings."""

from __future__ import annotations

from typing import Any

from app.errors import BadInput
from db.types import contains_nul


def reject_nul(value: Any, *, path: str | None) -> None:
    """``BadInput`` naming ``path`` when ``value`` holds a NUL character."""
    if contains_nul(value):
        raise BadInput("text must not contain NUL (\\u0000) characters", path=path)
