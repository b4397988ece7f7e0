"""Delivery ranges (``db.tables.webhooks.WebhookRange``): one row per (webhook, outbox
row) for what a paused webhook skipped or what waits for room in a webhook's window;
written by the expansion, read as deliveries by the log and the queue metrics, taken back
when released or retried, skipped ones pruned like failed deliveries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from db.database import ReadConn, WriteConn
from db.tables import ranges_table, webhooks_table

Row = dict[str, Any]
r = ranges_table
w = webhooks_table


async def record_ranges(conn: WriteConn, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(r), [dict(row) for row in rows])


async def newest_ranges(
    conn: ReadConn | WriteConn, *, webhook_id: str, statuses: Sequence[str] | None, limit: int
) -> list[Row]:
    """The webhook's ``limit`` newest ranges (each stands for at least one delivery)."""
    query = select(r).where(r.c.webhook_id == webhook_id)
    if statuses is not None:
        query = query.where(r.c.status.in_(list(statuses)))
    query = query.order_by(r.c.created_at.desc(), r.c.id.desc()).limit(limit)
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def take_ranges(
    conn: WriteConn, *, webhook_id: str, status: str, id_head: str | None = None
) -> list[Row]:
    """Delete and return the webhook's ranges of ``status`` (only the one with ``id_head``
    if given), oldest first."""
    query = delete(r).where(r.c.webhook_id == webhook_id, r.c.status == status)
    if id_head is not None:
        query = query.where(r.c.id_head == id_head)
    result = await conn.execute(query.returning(*r.c))
    return sorted((dict(row) for row in result.mappings()), key=lambda row: row["id"])


async def oldest_pending_ranges(conn: WriteConn, *, webhook_id: str, limit: int) -> list[Row]:
    """The webhook's ``limit`` oldest ``pending`` ranges, in the order they were written,
    locked (on PostgreSQL): another process releasing them at the same time waits, then
    no longer finds the ones this one took."""
    query = (
        select(r)
        .where(r.c.webhook_id == webhook_id, r.c.status == "pending")
        .order_by(r.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def drop_ranges(conn: WriteConn, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(delete(r).where(r.c.id.in_(list(ids))))


async def webhooks_with_pending_ranges(conn: ReadConn | WriteConn) -> list[str]:
    """Enabled webhooks with a ``pending`` range: a look into each one's index range."""
    held = select(r.c.id).where(r.c.webhook_id == w.c.id, r.c.status == "pending").exists()
    query = select(w.c.id).where(w.c.enabled.is_(True), held).order_by(w.c.id)
    return list((await conn.execute(query)).scalars())


async def prune_ranges(conn: WriteConn, *, before: datetime) -> int:
    """Delete skipped ranges queued before ``before``; returns how many deliveries."""
    result = await conn.execute(
        delete(r).where(r.c.created_at < before, r.c.status == "skipped").returning(r.c.size)
    )
    return sum(result.scalars())
