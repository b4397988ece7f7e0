"""Channel rows: lookup, insert, update, delete (with their events)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from db.database import ReadConn, WriteConn
from db.repositories.errors import DuplicateKeyError, MissingReferenceError
from db.tables import channels_table, events_table

ChannelRow = Mapping[str, Any]
"""A row of ``channels``: ``id``, ``name``, ``workspace_id``, ``private``, ``strict_types``,
``schemas`` (type -> JSON Schema), ``created_at``."""


# Built once: every publish reads its channel, and building the statement costs more CPU
# than running it.
_BY_ID = select(channels_table).where(channels_table.c.id == bindparam("channel_id"))


async def get_channel(conn: ReadConn | WriteConn, channel_id: str) -> ChannelRow | None:
    result = await conn.execute(_BY_ID, {"channel_id": channel_id})
    row = result.mappings().first()
    return dict(row) if row is not None else None


# PostgreSQL: the row's ``xmin`` (the transaction that wrote this version of it) changes
# with every update, and a deleted and re-created channel has another.
_VERSIONED = select(channels_table, literal_column("xmin::text").label("row_version")).where(
    channels_table.c.id == bindparam("channel_id")
)


async def get_channel_versioned(conn: WriteConn, channel_id: str) -> tuple[ChannelRow, str] | None:
    """The channel and its row version (PostgreSQL), which ``event_writes.insert_events``
    can check instead of reading the channel again."""
    result = await conn.execute(_VERSIONED, {"channel_id": channel_id})
    row = result.mappings().first()
    if row is None:
        return None
    found = dict(row)
    return found, str(found.pop("row_version"))


async def existing_channel_ids(conn: ReadConn | WriteConn, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    result = await conn.execute(
        select(channels_table.c.id).where(channels_table.c.id.in_(sorted(set(ids))))
    )
    return set(result.scalars())


async def insert_channel(conn: WriteConn, row: Mapping[str, Any]) -> ChannelRow:
    """Insert ``row``; ``DuplicateKeyError`` when the id is taken, ``MissingReferenceError``
    when its workspace vanished meanwhile."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(channels_table).values(dict(row)))
    except IntegrityError as exc:
        if await get_channel(conn, str(row["id"])) is not None:
            raise DuplicateKeyError(str(row["id"])) from exc
        raise MissingReferenceError(str(row["workspace_id"])) from exc
    return dict(row)


async def update_channel(
    conn: WriteConn, channel_id: str, values: Mapping[str, Any]
) -> ChannelRow | None:
    if values:
        await conn.execute(
            update(channels_table).where(channels_table.c.id == channel_id).values(dict(values))
        )
    return await get_channel(conn, channel_id)


async def delete_channel(conn: WriteConn, channel_id: str) -> bool:
    """Delete the channel and its events; False when it did not exist."""
    await conn.execute(delete(events_table).where(events_table.c.channel_id == channel_id))
    result = await conn.execute(delete(channels_table).where(channels_table.c.id == channel_id))
    return result.rowcount > 0
