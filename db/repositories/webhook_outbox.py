"""The webhook outbox: one row per publishing transaction, its expansion into delivery rows
(one statement, joined to the webhook rows as they are now), and what matching and
sending read from the events table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from db.database import ReadConn, WriteConn
from db.query.ast import Filter
from db.query.dialect_sql import is_one_of
from db.query.filter_sql import compile_filter
from db.query.scope import ReadScope, readable
from db.tables import deliveries_table, outbox_table, ranges_table, webhooks_table
from db.tables import events_table as events

Row = dict[str, Any]
Conn = ReadConn | WriteConn
d = deliveries_table
w = webhooks_table


async def matching_event_ids(
    conn: Conn, *, ids: Sequence[str], scope: ReadScope, query_filter: Filter
) -> set[str]:
    """The ids among ``ids`` that ``scope`` reads and ``query_filter`` matches: one statement."""
    if not ids:
        return set()
    query = select(events.c.id).where(
        is_one_of(events.c.id, list(ids), conn.dialect.name),
        readable(scope, events),
        compile_filter(query_filter, "event", events, scope),
    )
    return set((await conn.execute(query)).scalars())


async def queue_outbox(conn: WriteConn, *, kind: str, created_at: datetime, entries: str) -> None:
    """One outbox row for what a publishing transaction queued (see ``stage_deliveries``)."""
    await conn.execute(
        insert(outbox_table).values(kind=kind, created_at=created_at, entries=entries)
    )


async def take_outbox(conn: WriteConn, *, limit: int) -> list[Row]:
    """Delete and return the oldest outbox rows (the transaction's rollback puts them back);
    ``SKIP LOCKED``: another dispatcher takes others."""
    o = outbox_table
    oldest = select(o.c.id).order_by(o.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        # A locking CTE is evaluated once (a subquery could run again and pass its LIMIT).
        chosen = oldest.with_for_update(skip_locked=True).cte("chosen")
        query = delete(o).where(o.c.id == chosen.c.id)
    else:
        query = delete(o).where(o.c.id.in_(oldest.scalar_subquery()))
    result = await conn.execute(query.returning(*o.c))
    return sorted((dict(r) for r in result.mappings()), key=lambda r: r["id"])


STAGED_COLUMNS = (
    "id",
    "webhook_id",
    "event_id",
    "event_seq",
    "kind",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class Window:
    enabled: bool
    used: int
    """Pending delivery rows, counted up to the window."""
    held: bool
    """Whether a pending range waits."""


async def webhook_windows(
    conn: Conn, ids: Sequence[str], *, window: int, lock: bool
) -> dict[str, Window]:
    """Per existing webhook of ``ids``: whether it is enabled and how full its window is,
    in one statement (a look into each one's index ranges). With ``lock``, the rows are
    read ``FOR SHARE`` on PostgreSQL: a pause, resume or delete waits for the expansion to
    commit (and then sees its rows: skips, retries or deletes them); claims wait too."""
    if not ids:
        return {}
    r = ranges_table
    rows = (
        select(d.c.id)
        .where(d.c.webhook_id == w.c.id, d.c.status == "pending")
        .limit(window)
        .correlate(w)
        .subquery()
    )
    counted = select(func.count()).select_from(rows).scalar_subquery()
    held = select(r.c.id).where(r.c.webhook_id == w.c.id, r.c.status == "pending").exists()
    query = (
        select(w.c.id, w.c.enabled, counted.label("used"), held.label("held"))
        .where(w.c.id.in_(sorted(ids)))
        .order_by(w.c.id)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(read=True, of=w)
    return {
        row.id: Window(bool(row.enabled), int(row.used), bool(row.held))
        for row in await conn.execute(query)
    }


async def stage_deliveries(
    conn: WriteConn,
    *,
    ids: Sequence[str],
    webhook_ids: Sequence[str],
    event_ids: Sequence[str],
    event_seqs: Sequence[int],
    kind: str,
    now: datetime,
    status: str = "pending",
    due: datetime | None = None,
) -> None:
    """Queue one delivery per position of the four lists, in one statement, queued at
    ``now`` and due at ``due`` (default ``now``).

    The webhook row is joined as the rows are written: a webhook deleted meanwhile gets
    nothing (the expansion locks the rows first, ``webhook_windows``; a retry does not).
    """
    if not ids:
        return
    when = bindparam("now", now, type_=d.c.created_at.type)
    due_at = bindparam("due", due or now, type_=d.c.next_attempt_at.type)
    state = literal(status)
    if conn.dialect.name == "postgresql":
        # unnest of four arrays: one statement text and four parameters for any count.
        rows = (
            func.unnest(
                cast(bindparam("ids", list(ids), type_=ARRAY(Text)), ARRAY(Text)),
                cast(bindparam("hooks", list(webhook_ids), type_=ARRAY(Text)), ARRAY(Text)),
                cast(bindparam("events", list(event_ids), type_=ARRAY(Text)), ARRAY(Text)),
                # text[] cast to bigint[]: asyncpg would look bigint[] up on each new
                # connection (db/repositories/event_writes.py, ``_part_params``).
                cast(
                    cast(
                        bindparam("seqs", [str(s) for s in event_seqs], type_=ARRAY(Text)),
                        ARRAY(Text),
                    ),
                    ARRAY(BigInteger),
                ),
            )
            .table_valued("id", "webhook_id", "event_id", "event_seq")
            .render_derived(name="staged")
        )
        source = select(
            rows.c.id,
            rows.c.webhook_id,
            rows.c.event_id,
            rows.c.event_seq,
            literal(kind),
            state,
            literal(0),
            due_at,
            when,
        ).join_from(rows, w, w.c.id == rows.c.webhook_id)
        await conn.execute(insert(d).from_select(STAGED_COLUMNS, source))
        return
    # SQLite: one prepared statement stepped per row, inside the process.
    source = select(
        bindparam("id"),
        w.c.id,
        bindparam("event_id"),
        bindparam("event_seq"),
        literal(kind),
        state,
        literal(0),
        due_at,
        when,
    ).where(w.c.id == bindparam("webhook_id"))
    params = [
        {"id": i, "webhook_id": h, "event_id": e, "event_seq": s}
        for i, h, e, s in zip(ids, webhook_ids, event_ids, event_seqs, strict=True)
    ]
    await conn.execute(insert(d).from_select(STAGED_COLUMNS, source), params)


async def events_by_id(conn: Conn, ids: Sequence[str]) -> dict[str, Row]:
    """The stored event rows among ``ids`` (deleted ones are absent); for building bodies."""
    if not ids:
        return {}
    query = select(*events.c).where(is_one_of(events.c.id, list(ids), conn.dialect.name))
    return {row["id"]: dict(row) for row in (await conn.execute(query)).mappings()}
