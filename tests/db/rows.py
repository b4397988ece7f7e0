"""Test data written with plain Core inserts (no services), so engine tests stand alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, update

from db.database import Database
from db.tables import channels_table, events_table, positions_table, workspaces_table

T0 = datetime(2024, 1, 1, tzinfo=UTC)

EVENT_DEFAULTS: dict[str, Any] = {
    "type": None,
    "subject_id": None,
    "user_id": None,
    "parent_id": None,
    "publisher_id": None,
    "publisher_name": None,
    "data": None,
    "meta": None,
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def insert_workspaces(db: Database, *ids: str) -> None:
    async with db.transaction() as conn:
        for n, id in enumerate(ids):
            await conn.execute(
                insert(workspaces_table).values(id=id, name=id.upper(), created_at=at(n))
            )


async def insert_channel(
    db: Database, id: str, workspace_id: str, *, private: bool = False, name: str | None = None
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            insert(channels_table).values(
                id=id,
                name=name or id.title(),
                workspace_id=workspace_id,
                private=private,
                strict_types=False,
                schemas={},
                created_at=at(len(id)),
            )
        )


async def insert_events(db: Database, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Insert events (``id``, ``channel_id``, ``workspace_id``, ``created_at`` required);
    ``seq`` is assigned in order. Returns the full rows as inserted."""
    rows = [{**EVENT_DEFAULTS, **e} for e in events]
    async with db.transaction() as conn:
        last = (
            await conn.execute(
                update(positions_table)
                .values(last_seq=positions_table.c.last_seq + len(rows))
                .returning(positions_table.c.last_seq)
            )
        ).scalar_one()
        for n, row in enumerate(rows):
            row["seq"] = last - len(rows) + n + 1
        if rows:
            await conn.execute(insert(events_table), rows)
    return rows
