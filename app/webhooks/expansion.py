"""Expanding the outbox: each queued outbox row becomes one ``pending`` delivery row per
(enabled webhook, matched event), in one statement, and one skip row per paused webhook
(``app.webhooks.skips``: no row per event); deleted webhooks get nothing. The webhooks'
rows are read as they are at expansion, locked until it commits."""

from __future__ import annotations

from typing import Any

import orjson

from app.webhooks.ids import SERIALS, message_head, message_ids
from db.database import Database
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhook_skips as skips_repo

EXPAND_BATCH = 20  # outbox rows (publishing transactions) per expanding transaction


async def expand_outbox(db: Database) -> int:
    """Turn queued outbox rows into delivery (and skip) rows, oldest first; returns how
    many outbox rows were expanded. Each batch is one transaction: a crash leaves the rows
    to expand again."""
    total = 0
    while True:
        async with db.transaction() as conn:
            taken = await outbox_repo.take_outbox(conn, limit=EXPAND_BATCH)
            decoded = [orjson.loads(entry["entries"]) for entry in taken]
            named = {webhook_id for d in decoded for webhook_id, _ in d["hooks"]}
            enabled = await outbox_repo.lock_webhooks(conn, sorted(named))
            skips: list[dict[str, Any]] = []
            for entry, content in zip(taken, decoded, strict=True):
                events: list[list[Any]] = content["events"]
                webhook_ids: list[str] = []
                picked: list[list[Any]] = []
                for webhook_id, indexes in content["hooks"]:
                    if webhook_id not in enabled:
                        continue  # deleted since the publish
                    chosen = events if indexes is None else [events[i] for i in indexes]
                    if enabled[webhook_id]:
                        webhook_ids.extend(webhook_id for _ in chosen)
                        picked.extend(chosen)
                        continue
                    for start in range(0, len(chosen), SERIALS):
                        part = chosen[start : start + SERIALS]
                        skips.append(
                            {
                                "webhook_id": webhook_id,
                                "id_head": message_head(),
                                "kind": entry["kind"],
                                "created_at": entry["created_at"],
                                "events": orjson.dumps(part).decode(),
                            }
                        )
                await outbox_repo.stage_deliveries(
                    conn,
                    ids=message_ids(len(picked)),
                    webhook_ids=webhook_ids,
                    event_ids=[e[0] for e in picked],
                    event_seqs=[e[1] for e in picked],
                    kind=entry["kind"],
                    now=entry["created_at"],
                )
            await skips_repo.record_skips(conn, skips)
            if taken:
                await outbox_repo.drop_outbox(conn, [e["id"] for e in taken])
        total += len(taken)
        if len(taken) < EXPAND_BATCH:
            return total
