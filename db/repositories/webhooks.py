"""Webhooks, the delivery outbox (staging, claiming with leases) and the attempt log.

Claiming: a due delivery (``pending``, ``next_attempt_at`` passed, no live lease) gets
``lease_owner``/``lease_until`` in one UPDATE. The claim first locks the webhook row
(``FOR UPDATE`` on PostgreSQL; SQLite's single writer serialises anyway), so claims of one
webhook by several processes, and a pause or delete of it, happen one after the other: the
concurrency cap counts every process's live leases, and nothing is claimed once a pause or
delete has committed. The candidates are locked with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL. Outcomes are written only while the lease is still ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from db.database import ReadConn, WriteConn
from db.query.dialect_sql import is_one_of
from db.tables import (
    attempts_table,
    deliveries_table,
    ranges_table,
    tokens_table,
    webhooks_table,
)

Row = dict[str, Any]
Conn = ReadConn | WriteConn
d = deliveries_table
w = webhooks_table


async def insert_webhook(conn: WriteConn, row: Mapping[str, Any]) -> None:
    await conn.execute(insert(w).values(dict(row)))


async def get_webhook(conn: Conn, webhook_id: str) -> Row | None:
    row = (await conn.execute(select(w).where(w.c.id == webhook_id))).mappings().first()
    return dict(row) if row is not None else None


async def list_webhooks(conn: Conn) -> list[Row]:
    return [dict(r) for r in (await conn.execute(select(w).order_by(w.c.id))).mappings()]


async def update_webhook(conn: WriteConn, webhook_id: str, values: Mapping[str, Any]) -> Row | None:
    await conn.execute(update(w).where(w.c.id == webhook_id).values(dict(values)))
    return await get_webhook(conn, webhook_id)


async def delete_webhook(conn: WriteConn, webhook_id: str) -> bool:
    """Delete a webhook with its deliveries (and their attempts) and ranges."""
    found = await conn.execute(delete(w).where(w.c.id == webhook_id))
    await conn.execute(delete(d).where(d.c.webhook_id == webhook_id))
    await conn.execute(delete(ranges_table).where(ranges_table.c.webhook_id == webhook_id))
    return bool(found.rowcount)


async def webhooks_with_creators(conn: Conn) -> list[Row]:
    """Every webhook with its creating token's ``token_revoked_at`` / ``token_expires_at``
    (``token_missing`` when a creator token id no longer names a token)."""
    t = tokens_table
    query = select(
        w,
        t.c.revoked_at.label("token_revoked_at"),
        t.c.expires_at.label("token_expires_at"),
        and_(w.c.creator_token_id.is_not(None), t.c.id.is_(None)).label("token_missing"),
    ).select_from(w.outerjoin(t, t.c.id == w.c.creator_token_id))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def skip_pending(conn: WriteConn, webhook_id: str, *, now: datetime) -> None:
    """A paused webhook's queued deliveries (and pending ranges) become ``skipped``
    (retryable by hand). Those
    leased right now stay ``pending``: their requests are in flight, and their outcome is
    recorded when they end."""
    await conn.execute(
        update(d)
        .where(
            d.c.webhook_id == webhook_id,
            d.c.status == "pending",
            or_(d.c.lease_until.is_(None), d.c.lease_until < now),
        )
        .values(status="skipped", lease_owner=None, lease_until=None)
    )
    await conn.execute(
        update(ranges_table)
        .where(ranges_table.c.webhook_id == webhook_id, ranges_table.c.status == "pending")
        .values(status="skipped")
    )


def _due(now: datetime) -> Any:
    return and_(
        d.c.status == "pending",
        d.c.next_attempt_at <= now,
        or_(d.c.lease_until.is_(None), d.c.lease_until < now),
    )


async def due_webhook_ids(conn: Conn, *, now: datetime) -> list[str]:
    """Enabled webhooks that have a delivery ready to be claimed: per webhook, a look into
    its index range of pending deliveries (not a scan of every pending one)."""
    due = select(d.c.id).where(d.c.webhook_id == w.c.id, _due(now)).exists()
    query = select(w.c.id).where(w.c.enabled.is_(True), due)
    return list((await conn.execute(query)).scalars())


async def lock_enabled_webhook(conn: WriteConn, webhook_id: str) -> Row | None:
    """The webhook row if it exists and is enabled, locked until the transaction ends."""
    query = select(w).where(w.c.id == webhook_id, w.c.enabled.is_(True))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def live_leases(conn: Conn, *, webhook_id: str, now: datetime) -> int:
    """Deliveries of the webhook leased by any process and not yet expired (in flight)."""
    query = (
        select(func.count())
        .select_from(d)
        .where(
            d.c.webhook_id == webhook_id,
            d.c.status == "pending",
            d.c.lease_until.is_not(None),
            d.c.lease_until >= now,
        )
    )
    return int((await conn.execute(query)).scalar_one())


async def claim(
    conn: WriteConn,
    *,
    webhook_id: str,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[Row]:
    """Lease up to ``limit`` due deliveries of one webhook, oldest first (call it after
    ``lock_enabled_webhook`` in the same transaction)."""
    candidates = (
        select(d.c.id)
        .where(d.c.webhook_id == webhook_id, _due(now))
        .order_by(d.c.created_at, d.c.event_seq, d.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``IN (subquery)``: PostgreSQL may run a subquery again while updating
    # (and then exceed its LIMIT); a locking CTE is evaluated exactly once.
    chosen = candidates.cte("chosen")
    result = await conn.execute(
        update(d)
        .where(d.c.id == chosen.c.id, _due(now))
        .values(lease_owner=owner, lease_until=lease_until)
        .returning(*d.c)
    )
    rows = [dict(r) for r in result.mappings()]
    rows.sort(key=lambda r: (r["created_at"], r["event_seq"], r["id"]))
    return rows


async def finish_attempts(
    conn: WriteConn, *, owner: str, results: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> set[str]:
    """Log attempts and apply their outcomes, for the deliveries whose lease is still
    ``owner``'s; returns their ids. ``results`` holds (delivery values with ``id``, attempt
    without ``number``) pairs. Four statements whatever the count: lock the still-leased
    rows, count their logged attempts, update them (one pipelined executemany), insert
    the attempts (one multi-row INSERT)."""
    dialect = conn.dialect.name
    ids = [values["id"] for values, _ in results]
    held = select(d.c.id).where(is_one_of(d.c.id, ids, dialect), d.c.lease_owner == owner)
    if dialect == "postgresql":
        held = held.with_for_update()
    mine = set((await conn.execute(held)).scalars())
    if not mine:
        return mine
    a = attempts_table
    logged: dict[str, int] = dict(
        (
            await conn.execute(
                select(a.c.delivery_id, func.count())
                .where(is_one_of(a.c.delivery_id, sorted(mine), dialect))
                .group_by(a.c.delivery_id)
            )
        ).all()
    )
    kept = [(values, attempt) for values, attempt in results if values["id"] in mine]
    columns = [key for key in kept[0][0] if key != "id"]
    await conn.execute(
        update(d)
        .where(d.c.id == bindparam("b_id"))
        .values(
            lease_owner=None,
            lease_until=None,
            **{key: bindparam(f"b_{key}", type_=d.c[key].type) for key in columns},
        ),
        [{f"b_{key}": value for key, value in values.items()} for values, _ in kept],
    )
    await conn.execute(
        insert(a),
        [{**attempt, "number": logged.get(attempt["delivery_id"], 0) + 1} for _, attempt in kept],
    )
    return mine


async def list_deliveries(
    conn: Conn, *, webhook_id: str, statuses: Sequence[str] | None, limit: int
) -> list[Row]:
    """Newest first."""
    query = select(d).where(d.c.webhook_id == webhook_id)
    if statuses is not None:
        query = query.where(d.c.status.in_(list(statuses)))
    query = query.order_by(d.c.created_at.desc(), d.c.event_seq.desc(), d.c.id.desc())
    return [dict(r) for r in (await conn.execute(query.limit(limit))).mappings()]


async def get_delivery(conn: Conn, delivery_id: str) -> Row | None:
    row = (await conn.execute(select(d).where(d.c.id == delivery_id))).mappings().first()
    return dict(row) if row is not None else None


async def attempts_of(conn: Conn, delivery_ids: Iterable[str]) -> dict[str, list[Row]]:
    """Attempts of each delivery, oldest first, in one statement."""
    ids = list(delivery_ids)
    out: dict[str, list[Row]] = {i: [] for i in ids}
    if not ids:
        return out
    a = attempts_table
    query = select(a).where(a.c.delivery_id.in_(ids)).order_by(a.c.delivery_id, a.c.number)
    for row in (await conn.execute(query)).mappings():
        out[row["delivery_id"]].append(dict(row))
    return out


async def requeue(
    conn: WriteConn,
    *,
    webhook_id: str,
    statuses: Sequence[str],
    now: datetime,
    delivery_id: str | None = None,
) -> int:
    """Put failed/skipped deliveries back in the queue with a fresh attempt budget."""
    query = update(d).where(d.c.webhook_id == webhook_id, d.c.status.in_(list(statuses)))
    if delivery_id is not None:
        query = query.where(d.c.id == delivery_id)
    result = await conn.execute(
        query.values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            finished_at=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    return int(result.rowcount)


async def queue_stats(conn: Conn) -> list[Row]:
    """Per webhook with pending deliveries: how many, and the creation time of the oldest
    (from the webhook's own index ranges), pending ranges included."""
    r = ranges_table
    pending = and_(d.c.webhook_id == w.c.id, d.c.status == "pending")
    held = and_(r.c.webhook_id == w.c.id, r.c.status == "pending")
    query = select(
        w.c.id.label("webhook_id"),
        select(func.count()).where(pending).scalar_subquery().label("rows"),
        select(func.min(d.c.created_at)).where(pending).scalar_subquery().label("oldest_row"),
        select(func.sum(r.c.size)).where(held).scalar_subquery().label("held"),
        select(func.min(r.c.created_at)).where(held).scalar_subquery().label("oldest_held"),
    )
    stats = []
    for row in (await conn.execute(query)).mappings():
        depth = row["rows"] + (row["held"] or 0)
        if depth:
            oldest = [t for t in (row["oldest_row"], row["oldest_held"]) if t is not None]
            stats.append({"webhook_id": row["webhook_id"], "depth": depth, "oldest": min(oldest)})
    return stats


async def prune_log(
    conn: WriteConn, *, succeeded_before: datetime, failed_before: datetime, limit: int
) -> int:
    """Delete up to ``limit`` finished deliveries (with their attempts): succeeded ones
    finished before ``succeeded_before``, failed or skipped ones (by finish, else queue
    time) before ``failed_before``. Pending deliveries are never pruned."""
    # ``created_at <= finished_at``: the bound on ``created_at`` changes nothing but lets
    # the partial index of finished deliveries (``status <> 'pending'``, said literally
    # for the planner) range-scan only what is old enough; one query per cut-off.
    finished = d.c.status != "pending"
    kinds = (
        (d.c.status == "succeeded", succeeded_before, d.c.finished_at),
        (
            d.c.status.in_(("failed", "skipped")),
            failed_before,
            func.coalesce(d.c.finished_at, d.c.created_at),
        ),
    )
    ids: list[str] = []
    for status, before, ended in kinds:
        if len(ids) >= limit:
            break
        query = select(d.c.id).where(finished, status, d.c.created_at < before, ended < before)
        ids += (await conn.execute(query.limit(limit - len(ids)))).scalars()
    if not ids:
        return 0
    dialect = conn.dialect.name
    await conn.execute(
        delete(attempts_table).where(is_one_of(attempts_table.c.delivery_id, ids, dialect))
    )
    await conn.execute(delete(d).where(is_one_of(d.c.id, ids, dialect)))
    return len(ids)
