"""Channel feed reads: events of one channel by commit position (``events.seq``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from db.database import ReadConn
from db.query.scope import ReadScope, readable
from db.tables import channels_table, events_table

EVENT_COLUMNS = [column for column in events_table.c if column.name != "seq"]


async def channel_access(conn: ReadConn, channel_id: str) -> Mapping[str, Any] | None:
    """``{"id", "workspace_id", "private"}`` of a channel, or ``None`` when it does not exist."""
    statement = select(
        channels_table.c.id, channels_table.c.workspace_id, channels_table.c.private
    ).where(channels_table.c.id == channel_id)
    row = (await conn.execute(statement)).mappings().first()
    return dict(row) if row is not None else None


async def channel_events_after(
    conn: ReadConn,
    *,
    scope: ReadScope,
    channel_id: str,
    after_seq: int,
    since: datetime | None,
    type_: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` events of the channel with ``seq > after_seq``, oldest position first.

    Rows carry every event column plus ``seq`` (the caller builds the next cursor from it).
    """
    statement = (
        select(*EVENT_COLUMNS, events_table.c.seq)
        .where(
            events_table.c.channel_id == channel_id,
            events_table.c.seq > after_seq,
            readable(scope, events_table),
        )
        .order_by(events_table.c.seq)
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(events_table.c.created_at > since)
    if type_ is not None:
        statement = statement.where(events_table.c.type == type_)
    result = await conn.execute(statement)
    return [dict(row) for row in result.mappings()]


async def channel_event(
    conn: ReadConn, *, scope: ReadScope, channel_id: str, event_id: str
) -> dict[str, Any] | None:
    """One readable event of the channel, or ``None`` (missing, elsewhere or unreadable)."""
    statement = select(*EVENT_COLUMNS).where(
        events_table.c.id == event_id,
        events_table.c.channel_id == channel_id,
        readable(scope, events_table),
    )
    row = (await conn.execute(statement)).mappings().first()
    return dict(row) if row is not None else None
