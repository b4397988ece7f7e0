"""The channel a one-statement publish validates against, kept per process.

A publish must check its drafts against the channel (its workspace for the token, its
``strict_types`` and schemas). Reading the channel costs a round trip and about a sixth
of the CPU of a single-event publish, and channels rarely change. So the channel row is
kept here with its row version (PostgreSQL's ``xmin``), and the insert statement checks
that version in the database as it takes the position lock (``event_writes``): if any
process updated or deleted the channel since, nothing is stored, the entry is dropped
and the publish reads the channel and runs again; so does a publish the copy refused (the
refusal may come from a copy older than the channel). No invalidation message is needed:
the database says whether the copy is current, in the statement that stores the events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

from app.errors import EventgraphError
from db.database import ConnOnDemand, Database
from db.repositories import channels as channel_repo
from db.repositories.channels import ChannelRow
from db.repositories.errors import StaleReferenceError

T = TypeVar("T")

MAX_CHANNELS = 4096
"""Entries kept per database; when full, the cache starts over."""

_caches: WeakKeyDictionary[Database, dict[str, tuple[ChannelRow, str]]] = WeakKeyDictionary()


async def with_channel(
    conn: ConnOnDemand,
    db: Database,
    channel_id: str,
    store: Callable[[ChannelRow | None, str | None], Awaitable[T]],
) -> T:
    """``store(channel, version)``: with the kept copy and its version (the insert then
    checks it), else with the channel read now (``None`` if missing) and no version."""
    cache = _caches.setdefault(db, {})
    kept = cache.get(channel_id)
    if kept is not None:
        try:
            return await store(*kept)
        except (StaleReferenceError, EventgraphError):
            # Stale (the insert said so), or refused by checks against a copy that may be
            # out of date (a schema relaxed, a channel moved since): nothing was stored, so
            # decide again on the channel as it is now.
            cache.pop(channel_id, None)
    found = await channel_repo.get_channel_versioned(await conn(), channel_id)
    if found is None:
        return await store(None, None)
    result = await store(found[0], None)  # just read: as current as any read before an insert
    remember(db, *found)
    return result


def remember(db: Database, channel: ChannelRow, version: str) -> None:
    """Keep ``channel`` at row ``version``: read by a publish, or just written (created or
    updated) by this process, so that the next publish into it reads nothing."""
    cache = _caches.setdefault(db, {})
    if len(cache) >= MAX_CHANNELS:
        cache.clear()
    cache[str(channel["id"])] = (channel, version)


def forget(db: Database, channel_id: str) -> None:
    """Drop the copy of a channel this process deleted (the insert would notice anyway)."""
    _caches.get(db, {}).pop(channel_id, None)
