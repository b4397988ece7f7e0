"""What paused webhooks were not sent, one row per (webhook, outbox row): written by the
expansion, read as ``skipped`` deliveries by the log, taken back when they are retried
and pruned like failed deliveries (see ``db.tables.webhooks.WebhookSkip``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from db.database import ReadConn, WriteConn
from db.tables import skips_table

Row = dict[str, Any]
s = skips_table


async def record_skips(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(s), [dict(r) for r in rows])


async def newest_skips(conn: ReadConn | WriteConn, *, webhook_id: str, limit: int) -> list[Row]:
    """The webhook's ``limit`` newest skip rows (each stands for at least one delivery)."""
    query = (
        select(s)
        .where(s.c.webhook_id == webhook_id)
        .order_by(s.c.created_at.desc(), s.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def take_skips(conn: WriteConn, *, webhook_id: str, id_head: str | None = None) -> list[Row]:
    """Delete and return the webhook's skip rows (only the one with ``id_head`` if given)."""
    query = delete(s).where(s.c.webhook_id == webhook_id)
    if id_head is not None:
        query = query.where(s.c.id_head == id_head)
    result = await conn.execute(query.returning(*s.c))
    return sorted((dict(r) for r in result.mappings()), key=lambda r: (r["created_at"], r["id"]))


async def prune_skips(conn: WriteConn, *, before: datetime) -> list[str]:
    """Delete skip rows queued before ``before``; returns their ``events``."""
    result = await conn.execute(delete(s).where(s.c.created_at < before).returning(s.c.events))
    return list(result.scalars())
