"""Retention: delete events older than a cutoff, in small batches (short transactions)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from app.state import AppState
from db.database import Database, DatabaseUnavailable
from db.repositories import archive as archive_repo

logger = logging.getLogger("eventgraph.retention")

PURGE_EVERY_SECONDS = 3600.0


async def count_before(*, db: Database, before: datetime) -> int:
    """How many events ``purge_before`` would delete now."""
    async with db.read() as conn:
        return await archive_repo.count_created_before(conn, before=before)


async def purge_before(*, db: Database, before: datetime, batch_size: int = 1000) -> int:
    """Delete every event created before ``before``; returns how many went.

    Each batch is its own transaction, so writers (and SQLite's single write lock) are
    never held up for long. Archive first: ``eventgraph export`` then ``eventgraph purge``.
    """
    if before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    total = 0
    while True:
        async with db.transaction() as conn:
            deleted = await archive_repo.delete_created_before(
                conn, before=before, limit=batch_size
            )
        total += deleted
        if deleted < batch_size:
            return total
        await asyncio.sleep(0)  # let publishers take the write lock between batches


async def _retention_loop(state: AppState, interval: float) -> None:
    days = state.settings.retention_days
    assert days is not None
    while True:
        cutoff = datetime.now(UTC) - timedelta(days=days)
        try:
            deleted = await purge_before(db=state.db, before=cutoff)
            if deleted:
                logger.info("retention: deleted %d events created before %s", deleted, cutoff)
        except DatabaseUnavailable:
            logger.warning("retention: database busy or unavailable, retrying next round")
        except Exception:
            logger.exception("retention: purge failed, retrying next round")
        await asyncio.sleep(interval)


def start_retention_task(
    state: AppState, *, interval: float = PURGE_EVERY_SECONDS
) -> asyncio.Task[None] | None:
    """Start the periodic purge when ``settings.retention_days`` is set (else ``None``).

    The lifespan cancels the returned task on shutdown.
    """
    if state.settings.retention_days is None:
        return None
    return asyncio.create_task(_retention_loop(state, interval), name="eventgraph-retention")
