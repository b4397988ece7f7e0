"""What an attempt's answer does to its delivery, and writing finished attempts in batches.

Requests that end while a write is in progress wait for it and are then written together:
one transaction and four statements per batch (``repo.finish_attempts``), not one
transaction per request. An attempt counts as done only once its batch is committed.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.settings import Settings
from app.webhooks import metrics, sender
from app.webhooks.ids import new_ulids
from app.webhooks.outbox import webhooks_changed
from db.database import Database, WriteConn
from db.repositories import webhooks as repo

MAX_DELAY_SECONDS = 24 * 3600.0
EVENT_DELETED = "event deleted before delivery; nothing sent"
DELETED_OUTCOME = sender.Outcome(None, 0, error=EVENT_DELETED)
GONE_REASON = "receiver answered 410 Gone"


def backoff_seconds(attempts: int, base: float) -> float:
    """``base * 2**(attempts-1)``, +-25 % jitter, capped at a day."""
    delay: float = base * 2.0 ** min(attempts - 1, 30)
    return min(delay * random.uniform(0.75, 1.25), MAX_DELAY_SECONDS)


def is_retryable(status: int | None) -> bool:
    """No answer, 408, 429 and 5xx are retried; any other non-2xx is final."""
    return status is None or status in (408, 429) or status >= 500


@dataclass(frozen=True, slots=True)
class Finished:
    webhook_id: str
    delivery: dict[str, Any]
    started: datetime
    outcome: sender.Outcome


def _row_values(item: Finished, settings: Settings, now: datetime) -> dict[str, Any]:
    """The delivery's new state (always the same keys, so a batch is one executemany)."""
    delivery, outcome = item.delivery, item.outcome
    status = outcome.status_code
    attempts = delivery["attempts"] + 1
    values: dict[str, Any] = {
        "id": delivery["id"],
        "status": "pending",
        "attempts": attempts,
        "next_attempt_at": delivery["next_attempt_at"],
        "finished_at": None,
    }
    if status is not None and 200 <= status < 300:
        values.update(status="succeeded", finished_at=now)
    elif (
        status == 410
        or outcome is DELETED_OUTCOME
        or not is_retryable(status)
        or attempts >= settings.webhook_max_attempts
    ):
        values.update(status="failed", finished_at=now)
    else:
        delay = backoff_seconds(attempts, settings.webhook_retry_base)
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        values["next_attempt_at"] = now + timedelta(seconds=delay)
    return values


def _attempt(item: Finished, attempt_id: str) -> dict[str, Any]:
    outcome = item.outcome
    return {
        "id": attempt_id,
        "delivery_id": item.delivery["id"],
        "attempted_at": item.started,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "response": outcome.response,
        "error": outcome.error,
    }


class Recorder:
    """Writes finished attempts while their lease is still ``owner``'s, in batches."""

    def __init__(self, *, db: Database, settings: Settings, owner: str) -> None:
        self._db = db
        self._settings = settings
        self._owner = owner
        self._queued: list[tuple[Finished, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, item: Finished) -> None:
        """Returns once the attempt is committed (raises if its batch failed: the lease
        then expires and the delivery is sent again)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        await future

    async def _write_all(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                await self._write(batch)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def _write(self, batch: list[tuple[Finished, asyncio.Future[None]]]) -> None:
        now = datetime.now(UTC)
        rows = [
            (_row_values(item, self._settings, now), _attempt(item, attempt_id))
            for (item, _), attempt_id in zip(batch, new_ulids(len(batch)), strict=True)
        ]
        gone = {item.webhook_id for item, _ in batch if item.outcome.status_code == 410}

        async def write(conn: WriteConn) -> set[str]:
            written = await repo.finish_attempts(conn, owner=self._owner, results=rows)
            for webhook_id in gone:
                disable = any(
                    item.webhook_id == webhook_id
                    and item.outcome.status_code == 410
                    and item.delivery["id"] in written
                    for item, _ in batch
                )
                if disable:
                    await repo.update_webhook(
                        conn,
                        webhook_id,
                        {"enabled": False, "disabled_reason": GONE_REASON, "updated_at": now},
                    )
                    await repo.skip_pending(conn, webhook_id, now=now)
            return written

        # Several times per publish while deliveries flow: no checkout ping, a retry instead.
        written = await self._db.run_write(write)
        for values, _ in rows:
            if values["id"] not in written:
                continue
            if values["status"] == "succeeded":
                metrics.SUCCEEDED.inc()
            elif values["status"] == "failed":
                metrics.FAILED.inc()
        if gone:
            webhooks_changed()
