"""Deleting one event: admin, or the publisher that published it (within its scope)."""

from __future__ import annotations

from app.auth.principal import Principal
from app.errors import Forbidden, NotFound, Unauthenticated
from db.database import Database
from db.repositories import event_writes


async def delete_event(
    *, db: Database, principal: Principal, event_id: str, channel_id: str | None = None
) -> str:
    """Delete ``event_id`` and return it. ``NotFound`` when it is missing, unreadable, or in
    another channel than ``channel_id``; children keep their ``parentId``."""
    if not principal.is_authenticated:
        raise Unauthenticated("deleting requires a token")
    async with db.transaction() as conn:
        row = await event_writes.get_readable_event(
            conn, scope=principal.read_scope, event_id=event_id
        )
        if row is None or (channel_id is not None and row["channel_id"] != channel_id):
            raise NotFound(f"event {event_id!r} not found", path="id")
        if not principal.can_delete(
            channel_id=row["channel_id"],
            workspace_id=row["workspace_id"],
            publisher_id=row["publisher_id"],
        ):
            raise Forbidden("only the publisher of an event (or an admin) may delete it")
        await event_writes.delete_event(conn, event_id)
    return event_id
