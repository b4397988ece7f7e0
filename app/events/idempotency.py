"""Idempotent publishing: a retried publish with the same key stores nothing and answers
the events the first one stored.

A key belongs to its publisher (the token, or the configured admin token) and lives
``WINDOW`` from its first use; a background task deletes expired keys. The key row is
written in the publishing transaction, so it commits or rolls back with the events.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from app.auth.principal import Principal
from app.errors import BadInput, Conflict
from app.text import reject_nul
from db.database import Database, DatabaseUnavailable, WriteConn
from db.repositories import idempotency as repo

if TYPE_CHECKING:
    from app.events.publish import EventDraft

logger = logging.getLogger("eventgraph.idempotency")

WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255
PRUNE_EVERY_SECONDS = 600.0


def check_key(key: str, *, path: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadInput(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters", path=path)
    reject_nul(key, path=path)


def _owner(principal: Principal) -> str:
    return principal.token_id or principal.kind


def request_hash(channel_id: str, drafts: Sequence[EventDraft], *, single: bool) -> str:
    """What a repeat must match: the channel, the events and the shape (one or a batch)."""
    body = {"channel": channel_id, "single": single, "events": [asdict(d) for d in drafts]}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def claim(
    conn: WriteConn, *, principal: Principal, key: str, digest: str, path: str
) -> list[str] | None:
    """``None`` when this transaction now owns ``key``; the ids stored under it by an
    earlier publish of the same request otherwise. ``Conflict`` for a different request."""
    owner = _owner(principal)
    now = datetime.now(UTC)
    if await repo.claim(
        conn, owner=owner, key=key, request_hash=digest, now=now, expired_before=now - WINDOW
    ):
        return None
    prior = await repo.get(conn, owner=owner, key=key)
    if prior is None or prior[0] != digest:
        raise Conflict("this idempotency key was used for a different request", path=path)
    return prior[1]


async def remember(
    conn: WriteConn, *, principal: Principal, key: str, event_ids: Sequence[str]
) -> None:
    await repo.remember(conn, owner=_owner(principal), key=key, event_ids=event_ids)


async def _prune_loop(db: Database, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            async with db.transaction() as conn:
                await repo.prune(conn, before=datetime.now(UTC) - WINDOW)
        except DatabaseUnavailable:
            pass  # logged where mapped; next round
        except Exception:
            logger.exception("pruning expired idempotency keys failed, retrying next round")


def start_prune_task(db: Database, *, interval: float = PRUNE_EVERY_SECONDS) -> asyncio.Task[None]:
    """Delete expired keys every ``interval`` seconds; the lifespan cancels the task."""
    return asyncio.create_task(_prune_loop(db, interval), name="eventgraph-idempotency-prune")
