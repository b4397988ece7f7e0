"""Delivery ranges: the deliveries of one webhook from one outbox row kept as one row
(``db.tables.webhooks.WebhookRange``) instead of one row per event, with the events and a
``webhook-id`` head: what a paused webhook skipped (``skipped``), and what waits for room
in a webhook's window of delivery rows (``pending``, released by the expansion).

The log shows each event of a range as a delivery of its status (id ``serial_id(head,
n)``, no attempts); the queue metrics count pending ranges. Retrying skipped deliveries
turns ranges into delivery rows with those ids: all of them for a bulk retry; for one
delivery, the range it belongs to becomes ``skipped`` rows and that one is queued.
Skipped ranges are pruned with failed and skipped deliveries, by queue time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from app.webhooks.ids import SERIALS, message_head, serial_id
from db.database import WriteConn
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_ranges as ranges_repo

Row = dict[str, Any]


def new_ranges(
    webhook_id: str, status: str, entry: Row, events: Sequence[Sequence[Any]]
) -> list[Row]:
    """The range rows for ``events`` of the outbox row ``entry`` (one per ``SERIALS``)."""
    return [
        {
            "webhook_id": webhook_id,
            "status": status,
            "id_head": message_head(),
            "kind": entry["kind"],
            "created_at": entry["created_at"],
            "size": len(events[start : start + SERIALS]),
            "events": orjson.dumps(events[start : start + SERIALS]).decode(),
        }
        for start in range(0, len(events), SERIALS)
    ]


def _order(row: Row) -> tuple[datetime, int, str]:
    return (row["created_at"], row["event_seq"], row["id"])


def as_deliveries(found: Row) -> list[Row]:
    """The delivery rows a range stands for, in queue order."""
    events: list[list[Any]] = orjson.loads(found["events"])
    return [
        {
            "id": serial_id(found["id_head"], n),
            "webhook_id": found["webhook_id"],
            "event_id": event_id,
            "event_seq": seq,
            "kind": found["kind"],
            "status": found["status"],
            "attempts": 0,
            "next_attempt_at": found["created_at"],
            "lease_owner": None,
            "lease_until": None,
            "created_at": found["created_at"],
            "finished_at": None,
        }
        for n, (event_id, seq) in enumerate(events)
    ]


def newest_first(rows: Sequence[Row], ranges: Sequence[Row], limit: int) -> list[Row]:
    """Delivery rows (newest first, at most ``limit``) merged with the deliveries of the
    webhook's newest ranges: the ``limit`` newest of both."""
    merged = [*rows, *(row for found in ranges for row in as_deliveries(found))]
    return sorted(merged, key=_order, reverse=True)[:limit]


async def materialize(conn: WriteConn, ranges: Sequence[Row], *, status: str, due: datetime) -> int:
    """Write the delivery rows of ``ranges`` (taken from the table by the caller) with
    ``status``, due at ``due``; returns how many."""
    count = 0
    for found in ranges:
        rows = as_deliveries(found)
        await outbox_repo.stage_deliveries(
            conn,
            ids=[r["id"] for r in rows],
            webhook_ids=[found["webhook_id"]] * len(rows),
            event_ids=[r["event_id"] for r in rows],
            event_seqs=[r["event_seq"] for r in rows],
            kind=found["kind"],
            now=found["created_at"],
            status=status,
            due=due,
        )
        count += len(rows)
    return count


async def requeue_skipped(
    conn: WriteConn, *, webhook_id: str, now: datetime, delivery_id: str | None
) -> int:
    """Turn the webhook's skipped ranges into delivery rows: all of them queued again
    (returns how many), or with ``delivery_id`` only the range it belongs to, as
    ``skipped`` rows for the caller to requeue that one like any other (returns 0)."""
    head = None if delivery_id is None else delivery_id[:-4]
    taken = await ranges_repo.take_ranges(
        conn, webhook_id=webhook_id, status="skipped", id_head=head
    )
    if delivery_id is not None:
        await materialize(conn, taken, status="skipped", due=now)
        return 0
    return await materialize(conn, taken, status="pending", due=now)
