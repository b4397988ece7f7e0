"""The delivery log of a webhook (with attempts), retrying by hand, and pruning the log.
Delivery ranges (``app.webhooks.ranges``) are read, retried and pruned here as the
deliveries they stand for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.auth.principal import Principal
from app.errors import BadInput, NotFound
from app.settings import Settings
from app.webhooks import ranges
from app.webhooks.service import get_webhook
from db.database import Database
from db.repositories import webhook_ranges as ranges_repo
from db.repositories import webhooks as repo

STATUSES = ("pending", "succeeded", "failed", "skipped")
RETRYABLE = ("failed", "skipped")
MAX_LIMIT = 100
PRUNE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    """A delivery row and its attempts (oldest first)."""

    row: dict[str, Any]
    attempts: list[dict[str, Any]]


def _check_statuses(statuses: Sequence[str] | None, allowed: Sequence[str]) -> None:
    for index, status in enumerate(statuses or ()):
        if status not in allowed:
            raise BadInput(f"status must be one of {', '.join(allowed)}", path=f"statuses[{index}]")


async def list_deliveries(
    *,
    db: Database,
    principal: Principal,
    webhook_id: str,
    statuses: Sequence[str] | None = None,
    limit: int = 50,
) -> list[DeliveryLog]:
    """Newest first, each with its attempts: two statements whatever the count."""
    await get_webhook(db=db, principal=principal, id=webhook_id)
    _check_statuses(statuses, STATUSES)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}", path="limit")
    async with db.read() as conn:
        rows = await repo.list_deliveries(
            conn, webhook_id=webhook_id, statuses=statuses, limit=limit
        )
        newest = await ranges_repo.newest_ranges(
            conn, webhook_id=webhook_id, statuses=statuses, limit=limit
        )
        rows = ranges.newest_first(rows, newest, limit)
        attempts = await repo.attempts_of(conn, (r["id"] for r in rows))
    return [DeliveryLog(row, attempts[row["id"]]) for row in rows]


async def retry_deliveries(
    *,
    db: Database,
    principal: Principal,
    webhook_id: str,
    delivery_id: str | None = None,
    statuses: Sequence[str] = RETRYABLE,
) -> int:
    """Queue failed (and/or skipped) deliveries again, one or all; returns how many.

    A retried delivery keeps its ``webhook-id`` and gets a fresh attempt budget.
    """
    await get_webhook(db=db, principal=principal, id=webhook_id)
    _check_statuses(statuses, RETRYABLE)
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        count = 0
        if "skipped" in statuses:
            count = await ranges.requeue_skipped(
                conn, webhook_id=webhook_id, now=now, delivery_id=delivery_id
            )
        count += await repo.requeue(
            conn, webhook_id=webhook_id, statuses=statuses, now=now, delivery_id=delivery_id
        )
    if delivery_id is not None and count == 0:
        raise NotFound(
            f"no failed or skipped delivery {delivery_id!r} on this webhook", path="deliveryId"
        )
    return count


async def prune_log(*, db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Drop succeeded deliveries older than ``webhook_log_retention`` and failed or skipped
    ones (skipped ranges too) older than ``webhook_failed_log_retention``, with their attempts;
    returns how many deliveries. Short transactions of ``PRUNE_BATCH`` deliveries each."""
    now = now or datetime.now(UTC)
    succeeded_before = now - timedelta(seconds=settings.webhook_log_retention)
    failed_before = now - timedelta(seconds=settings.webhook_failed_log_retention)
    async with db.transaction() as conn:
        total = await ranges_repo.prune_ranges(conn, before=failed_before)
    while True:
        async with db.transaction() as conn:
            pruned = await repo.prune_log(
                conn,
                succeeded_before=succeeded_before,
                failed_before=failed_before,
                limit=PRUNE_BATCH,
            )
        total += pruned
        if pruned < PRUNE_BATCH:
            return total
