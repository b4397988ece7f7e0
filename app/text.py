"""Text every database can store (PostgreSQL rejects NUL in text and JSON strings), and the
one length limit of short free-text inputs."""

from __future__ import annotations

from typing import Any

from app.errors import BadInput
from db.types import contains_nul


def reject_nul(value: Any, *, path: str | None) -> None:
    """``BadInput`` naming ``path`` when ``value`` holds a NUL character."""
    if contains_nul(value):
        raise BadInput("text must not contain NUL (\\u0000) characters", path=path)


MAX_TEXT_LENGTH = 200
"""Identifiers and names a client chooses: event ``type``, ``subjectId``, ``userId``,
``parentId``, channel, workspace and token names and descriptions."""


def check_text(value: str | None, *, path: str, max_length: int = MAX_TEXT_LENGTH) -> None:
    """``BadInput`` naming ``path`` when ``value`` is too long or holds a NUL."""
    if value is None:
        return
    if len(value) > max_length:
        raise BadInput(f"{path} must be at most {max_length} characters", path=path)
    reject_nul(value, path=path)
