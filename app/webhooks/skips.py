"""What a paused webhook was not sent, kept compactly: one skip row per (webhook, outbox
row) with the events and a ``webhook-id`` head, instead of one ``skipped`` delivery row per
event. The log shows each event of it as a ``skipped`` delivery (id ``serial_id(head, n)``,
no attempts); retrying turns it into delivery rows with those ids (all of it for a bulk
retry; for one delivery, the whole skip row becomes ``skipped`` rows and that one is
queued). Skip rows are pruned with failed and skipped deliveries, by queue time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from app.webhooks.ids import serial_id
from db.database import WriteConn
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_skips as skips_repo

Row = dict[str, Any]


def _order(row: Row) -> tuple[datetime, int, str]:
    return (row["created_at"], row["event_seq"], row["id"])


def as_deliveries(skip: Row) -> list[Row]:
    """The ``skipped`` delivery rows a skip row stands for, in queue order."""
    events: list[list[Any]] = orjson.loads(skip["events"])
    return [
        {
            "id": serial_id(skip["id_head"], n),
            "webhook_id": skip["webhook_id"],
            "event_id": event_id,
            "event_seq": seq,
            "kind": skip["kind"],
            "status": "skipped",
            "attempts": 0,
            "next_attempt_at": skip["created_at"],
            "lease_owner": None,
            "lease_until": None,
            "created_at": skip["created_at"],
            "finished_at": None,
        }
        for n, (event_id, seq) in enumerate(events)
    ]


def newest_first(rows: Sequence[Row], skips: Sequence[Row], limit: int) -> list[Row]:
    """Delivery rows (newest first, at most ``limit``) merged with the deliveries of the
    webhook's newest skip rows: the ``limit`` newest of both."""
    merged = [*rows, *(row for skip in skips for row in as_deliveries(skip))]
    return sorted(merged, key=_order, reverse=True)[:limit]


async def requeue_skipped(
    conn: WriteConn, *, webhook_id: str, now: datetime, delivery_id: str | None
) -> int:
    """Turn the webhook's skip rows into delivery rows: all of them queued again (returns
    how many), or with ``delivery_id`` only the skip row it belongs to, as ``skipped`` rows
    for the caller to requeue that one like any other (returns 0)."""
    head = None if delivery_id is None else delivery_id[:-4]
    taken = await skips_repo.take_skips(conn, webhook_id=webhook_id, id_head=head)
    count = 0
    for skip in taken:
        rows = as_deliveries(skip)
        await outbox_repo.stage_deliveries(
            conn,
            ids=[r["id"] for r in rows],
            webhook_ids=[webhook_id] * len(rows),
            event_ids=[r["event_id"] for r in rows],
            event_seqs=[r["event_seq"] for r in rows],
            kind=skip["kind"],
            now=skip["created_at"],
            status="skipped" if delivery_id is not None else "pending",
            due=now,
        )
        count += len(rows)
    return 0 if delivery_id is not None else count
