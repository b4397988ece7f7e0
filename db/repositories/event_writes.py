"""Event writes: batch insert under the commit-ordering position lock, and delete.

``insert_events`` takes the row lock of ``event_positions`` first; ids, positions and
timestamps are assigned only after it is held, so within the lock they are all increasing
and transactions commit in ``seq`` order (see docs/architecture.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from ulid import ULID

from db.database import ReadConn, WriteConn
from db.query.scope import ReadScope, readable
from db.repositories.errors import MissingReferenceError
from db.tables import events_table, positions_table
from db.types import to_millis

_last_ulid = 0


def _next_ulid(created_at: datetime) -> str:
    """A ULID for ``created_at``, strictly greater than the last one this process made."""
    global _last_ulid
    millis = int(created_at.timestamp() * 1000)
    value = (millis << 80) | secrets.randbits(79)
    if value <= _last_ulid:
        value = _last_ulid + 1
    _last_ulid = value
    return str(ULID.from_int(value))


async def insert_events(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Insert ``rows`` (event columns without ``id``/``seq``/``created_at``) in batch order.

    Returns the stored rows, every column included. Raises ``MissingReferenceError`` when the
    channel or workspace no longer exists.
    """
    count = len(rows)
    if count == 0:
        return []
    result = await conn.execute(
        update(positions_table)
        .where(positions_table.c.id == 1)
        .values(last_seq=positions_table.c.last_seq + count)
        .returning(positions_table.c.last_seq)
    )
    last = int(result.scalar_one())
    created_at = to_millis(datetime.now(UTC))
    stored = [
        {
            **dict(row),
            "id": _next_ulid(created_at),
            "seq": last - count + 1 + index,
            "created_at": created_at,
        }
        for index, row in enumerate(rows)
    ]
    try:
        # executemany, not one multi-row VALUES: the driver pipelines it (asyncpg) or loops
        # in C (sqlite3), and measured 3-4x faster for 1000 rows than compiling a
        # 1000-row VALUES statement, which also cannot be cached and hits bind limits.
        await conn.execute(insert(events_table), stored)
    except IntegrityError as exc:
        raise MissingReferenceError(str(rows[0].get("channel_id"))) from exc
    return stored


async def readable_event_ids(
    conn: ReadConn | WriteConn, *, scope: ReadScope, ids: Sequence[str]
) -> set[str]:
    """The ids among ``ids`` naming events ``scope`` can read."""
    if not ids:
        return set()
    result = await conn.execute(
        select(events_table.c.id).where(
            events_table.c.id.in_(sorted(set(ids))), readable(scope, events_table)
        )
    )
    return set(result.scalars())


async def get_readable_event(
    conn: ReadConn | WriteConn, *, scope: ReadScope, event_id: str
) -> dict[str, Any] | None:
    result = await conn.execute(
        select(events_table).where(events_table.c.id == event_id, readable(scope, events_table))
    )
    row = result.mappings().first()
    return dict(row) if row is not None else None


async def delete_event(conn: WriteConn, event_id: str) -> bool:
    """Delete one event; False when it did not exist. Children keep their ``parent_id``."""
    result = await conn.execute(delete(events_table).where(events_table.c.id == event_id))
    return result.rowcount > 0
