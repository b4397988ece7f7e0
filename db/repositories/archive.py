"""Archive storage: keyset export batches, lossless import, retention deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from db.database import ReadConn, WriteConn
from db.query.ast import Filter
from db.query.filter_sql import compile_filter
from db.query.scope import ReadScope, readable
from db.tables import channels_table, events_table, positions_table, workspaces_table

EVENT_COLUMNS = [column for column in events_table.c if column.name != "seq"]


async def export_batch(
    conn: ReadConn,
    *,
    scope: ReadScope,
    query_filter: Filter,
    after_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The next ``limit`` matching readable events with ``id > after_id``, ascending by id.

    Each call is one short indexed statement (keyset on the primary key), so an export of
    any size holds neither a long transaction nor more than one batch in memory.
    """
    statement = (
        select(*EVENT_COLUMNS)
        .where(
            readable(scope, events_table),
            compile_filter(query_filter, "event", events_table, scope),
        )
        .order_by(events_table.c.id)
        .limit(limit)
    )
    if after_id is not None:
        statement = statement.where(events_table.c.id > after_id)
    result = await conn.execute(statement)
    return [dict(row) for row in result.mappings()]


async def existing_event_ids(conn: WriteConn, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are already stored."""
    if not ids:
        return set()
    result = await conn.execute(select(events_table.c.id).where(events_table.c.id.in_(ids)))
    return {row[0] for row in result}


async def ensure_workspaces(conn: WriteConn, ids: Iterable[str], *, now: datetime) -> int:
    """Create the workspaces among ``ids`` that do not exist (named after their id)."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    result = await conn.execute(
        select(workspaces_table.c.id).where(workspaces_table.c.id.in_(wanted))
    )
    missing = sorted(set(wanted) - {row[0] for row in result})
    if missing:
        await conn.execute(
            insert(workspaces_table),
            [{"id": ws, "name": ws, "created_at": now} for ws in missing],
        )
    return len(missing)


async def ensure_channels(
    conn: WriteConn, channels: Mapping[str, str], *, now: datetime, private: bool
) -> int:
    """Create the channels (id → workspace id) that do not exist, named after their id."""
    if not channels:
        return 0
    result = await conn.execute(
        select(channels_table.c.id).where(channels_table.c.id.in_(sorted(channels)))
    )
    missing = sorted(set(channels) - {row[0] for row in result})
    if missing:
        await conn.execute(
            insert(channels_table),
            [
                {
                    "id": channel_id,
                    "name": channel_id,
                    "workspace_id": channels[channel_id],
                    "private": private,
                    "strict_types": False,
                    "schemas": {},
                    "created_at": now,
                }
                for channel_id in missing
            ],
        )
    return len(missing)


async def reserve_positions(conn: WriteConn, count: int) -> int:
    """Reserve ``count`` commit positions; returns the first. Same counter and lock as
    publishing, so imported events are ordered with live ones (docs/architecture.md)."""
    statement = (
        update(positions_table)
        .where(positions_table.c.id == 1)
        .values(last_seq=positions_table.c.last_seq + count)
        .returning(positions_table.c.last_seq)
    )
    last = int((await conn.execute(statement)).scalar_one())
    return last - count + 1


async def insert_events(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert complete event rows (``seq`` included) as given."""
    if rows:
        await conn.execute(insert(events_table), [dict(row) for row in rows])


async def delete_created_before(conn: WriteConn, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest events created before ``before``."""
    oldest = (
        select(events_table.c.id)
        .where(events_table.c.created_at < before)
        .order_by(events_table.c.created_at, events_table.c.id)
        .limit(limit)
    )
    result = await conn.execute(
        delete(events_table).where(events_table.c.id.in_(oldest.scalar_subquery()))
    )
    return int(result.rowcount)
