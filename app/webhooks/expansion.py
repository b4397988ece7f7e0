"""Expanding the outbox, paced: each queued outbox row becomes, per webhook it names,
``pending`` delivery rows (one per matched event, one statement per outbox row) while the
webhook has room in its window of ``window`` pending delivery rows
(``EVENTGRAPH_WEBHOOK_WINDOW``); otherwise one
``pending`` range (``app.webhooks.ranges``), released into delivery rows as the window
frees, oldest first. A paused webhook gets one ``skipped`` range, a deleted one nothing.
So a slow receiver or a burst leaves one small row per (webhook, publish), not thousands.

Per webhook, deliveries become rows in the order their outbox rows are expanded: once a
webhook has a pending range, later outbox rows add ranges behind it. The outbox is drained
whole on every pass (no position to keep, so a replay committing after a later publish is
simply expanded in a later pass). The webhooks' rows are read as they are, locked until
the pass commits (a pause waits for it, then turns pending ranges into skipped ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson

from app.webhooks.ids import message_ids
from app.webhooks.ranges import materialize, new_ranges
from db.database import Database, WriteConn
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_ranges as ranges_repo

EXPAND_BATCH = 20  # outbox rows (publishing transactions) per expanding transaction


async def expand_outbox(db: Database, *, window: int) -> int:
    """Turn queued outbox rows into delivery and range rows, oldest first; returns how
    many outbox rows were expanded. Each batch is one transaction: a crash leaves the rows
    to expand again (and a connection found lost before the commit, unpinged, too)."""
    total = 0
    while True:
        taken = await db.run_write(partial(_expand_batch, window=window))
        total += taken
        if taken < EXPAND_BATCH:
            return total


async def _expand_batch(conn: WriteConn, *, window: int) -> int:
    """Expand up to ``EXPAND_BATCH`` outbox rows; returns how many."""
    taken = await outbox_repo.take_outbox(conn, limit=EXPAND_BATCH)
    decoded = [orjson.loads(entry["entries"]) for entry in taken]
    named = sorted({webhook_id for d in decoded for webhook_id, _ in d["hooks"]})
    windows = await outbox_repo.webhook_windows(conn, named, window=window, lock=True)
    enabled = {h: found.enabled for h, found in windows.items()}
    # Room for delivery rows; none while ranges wait (they go first).
    room = {h: 0 if found.held else window - found.used for h, found in windows.items()}
    ranges: list[dict[str, Any]] = []
    for entry, content in zip(taken, decoded, strict=True):
        events: list[list[Any]] = content["events"]
        webhook_ids: list[str] = []
        picked: list[list[Any]] = []
        for webhook_id, indexes in content["hooks"]:
            if webhook_id not in enabled:
                continue  # deleted since the publish
            chosen = events if indexes is None else [events[i] for i in indexes]
            if not enabled[webhook_id]:
                ranges += new_ranges(webhook_id, "skipped", entry, chosen)
            elif room[webhook_id] >= len(chosen) or room[webhook_id] == window:
                room[webhook_id] -= len(chosen)
                webhook_ids.extend(webhook_id for _ in chosen)
                picked.extend(chosen)
            else:  # no room: this and every later one of the pass waits in order
                room[webhook_id] = 0
                ranges += new_ranges(webhook_id, "pending", entry, chosen)
        await outbox_repo.stage_deliveries(
            conn,
            ids=message_ids(len(picked)),
            webhook_ids=webhook_ids,
            event_ids=[e[0] for e in picked],
            event_seqs=[e[1] for e in picked],
            kind=entry["kind"],
            now=entry["created_at"],
        )
    await ranges_repo.record_ranges(conn, ranges)
    return len(taken)


RELEASE_BATCH = 50  # pending ranges per webhook looked at in one release


async def release_ranges(db: Database, *, window: int) -> bool:
    """Turn pending ranges into delivery rows, oldest first, for each webhook whose window
    is at least half free, while they fit (the first always fits an empty window);
    returns whether pending ranges are left."""
    async with db.read() as conn:
        waiting = await ranges_repo.webhooks_with_pending_ranges(conn)
        seen = await outbox_repo.webhook_windows(conn, waiting, window=window, lock=False)
    left = False
    for webhook_id in waiting:
        if webhook_id in seen and seen[webhook_id].used > window // 2:
            left = True  # not worth a transaction until half the window is free
            continue
        async with db.transaction() as conn:
            windows = await outbox_repo.webhook_windows(
                conn, [webhook_id], window=window, lock=True
            )
            if webhook_id not in windows or not windows[webhook_id].enabled:
                continue  # paused or deleted meanwhile: its ranges are skipped or gone
            free = window - windows[webhook_id].used
            found = await ranges_repo.oldest_pending_ranges(
                conn, webhook_id=webhook_id, limit=RELEASE_BATCH
            )
            chosen: list[dict[str, Any]] = []
            for candidate in found:
                if candidate["size"] > free and not (free == window and not chosen):
                    break
                chosen.append(candidate)
                free -= candidate["size"]
            await ranges_repo.drop_ranges(conn, [c["id"] for c in chosen])
            await materialize(conn, chosen, status="pending", due=datetime.now(UTC))
            left = left or len(chosen) < len(found) or len(found) == RELEASE_BATCH
    return left
