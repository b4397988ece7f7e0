"""Archive storage: keyset export batches, lossless import, retention deletes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update

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


async def insert_missing_workspaces(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the complete workspace rows whose id is not stored yet; returns how many."""
    return await _insert_missing(conn, workspaces_table, rows)


async def insert_missing_channels(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the complete channel rows whose id is not stored yet; returns how many."""
    return await _insert_missing(conn, channels_table, rows)


async def _insert_missing(conn: WriteConn, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    by_id = {row["id"]: row for row in rows}
    if not by_id:
        return 0
    result = await conn.execute(select(table.c.id).where(table.c.id.in_(sorted(by_id))))
    missing = sorted(set(by_id) - {row[0] for row in result})
    if missing:
        await conn.execute(insert(table), [dict(by_id[key]) for key in missing])
    return len(missing)


async def workspaces_and_channels(
    conn: ReadConn, *, workspace_id: str | None, channel_id: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The channels selected by the optional ids and the workspaces holding them (plus the
    selected workspace itself when it has no channel), both ordered by id."""
    channels = select(channels_table).order_by(channels_table.c.id)
    if workspace_id is not None:
        channels = channels.where(channels_table.c.workspace_id == workspace_id)
    if channel_id is not None:
        channels = channels.where(channels_table.c.id == channel_id)
    channel_rows = [dict(row) for row in (await conn.execute(channels)).mappings()]
    wanted = {row["workspace_id"] for row in channel_rows}
    if workspace_id is not None and channel_id is None:
        wanted.add(workspace_id)
    workspaces = select(workspaces_table).order_by(workspaces_table.c.id)
    if workspace_id is not None or channel_id is not None:
        workspaces = workspaces.where(workspaces_table.c.id.in_(sorted(wanted)))
    workspace_rows = [dict(row) for row in (await conn.execute(workspaces)).mappings()]
    return workspace_rows, channel_rows


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


async def count_created_before(conn: ReadConn, *, before: datetime) -> int:
    """How many events were created before ``before`` (what a purge would delete)."""
    statement = select(func.count()).select_from(events_table)
    result = await conn.execute(statement.where(events_table.c.created_at < before))
    return int(result.scalar_one())


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
