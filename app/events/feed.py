"""Channel polling by commit position: the feed behind ``GET /api/v1/channels/{id}/events``.

The cursor encodes ``events.seq``. Positions are assigned under the ``event_positions`` row
lock and become visible in increasing order (docs/architecture.md), so "every event of the
channel with ``seq`` above the cursor" never skips an event that commits later and never
repeats one, however many publishers run concurrently.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.auth.principal import Principal
from app.errors import BadInput, Forbidden, NotFound, Unauthenticated
from app.events.read import EventRow
from app.json_input import INT_MAX
from db.database import Database
from db.repositories import feed as feed_repo

_CURSOR_PREFIX = "seq:"
_POSITION = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """What the caller learnt about the channel it polls."""

    channel_id: str
    workspace_id: str
    private: bool


@dataclass(slots=True)
class FeedPage:
    events: list[EventRow]
    cursor: str | None
    has_more: bool
    channel: ChannelAccess


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the commit position ``seq``."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, path: str = "cursor") -> int:
    """The position inside ``cursor``; a client error naming ``path`` when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, digits = raw.partition(":")
    # ASCII digits within BIGINT: str.isdigit() and int() also take other scripts.
    if f"{prefix}:" != _CURSOR_PREFIX or not _POSITION.fullmatch(digits) or int(digits) > INT_MAX:
        raise BadInput("cursor is not a cursor returned by this endpoint", path=path)
    return int(digits)


async def check_channel_access(
    *, db: Database, principal: Principal, channel_id: str
) -> ChannelAccess:
    """The channel if the caller may read it: 404 unknown, 401 private and anonymous,
    403 private and outside the caller's scope."""
    async with db.read() as conn:
        row = await feed_repo.channel_access(conn, channel_id)
    if row is None:
        raise NotFound(f"channel {channel_id!r} not found", path="channelId")
    access = ChannelAccess(
        channel_id=row["id"], workspace_id=row["workspace_id"], private=bool(row["private"])
    )
    scope = principal.read_scope
    if access.private and not scope.can_read(
        channel_id=access.channel_id, workspace_id=access.workspace_id, channel_private=True
    ):
        if not principal.is_authenticated:
            raise Unauthenticated("this channel is private: a token is required")
        raise Forbidden("this token cannot read this channel")
    return access


async def poll_channel(
    *,
    db: Database,
    principal: Principal,
    channel_id: str,
    cursor: str | None = None,
    since: datetime | None = None,
    type_: str | None = None,
    limit: int = 100,
) -> FeedPage:
    """The next page of the channel's events in publish (commit) order.

    ``cursor`` wins over ``since`` (``createdAt`` strictly after). An empty page hands back
    the cursor it was given, so a poller can keep asking with the same one.
    """
    if not 1 <= limit <= 100:
        raise BadInput("limit must be between 1 and 100", path="limit")
    after_seq = decode_cursor(cursor) if cursor is not None else 0
    access = await check_channel_access(db=db, principal=principal, channel_id=channel_id)
    async with db.read() as conn:
        rows = await feed_repo.channel_events_after(
            conn,
            scope=principal.read_scope,
            channel_id=channel_id,
            after_seq=after_seq,
            since=None if cursor is not None else since,
            type_=type_,
            limit=limit + 1,
        )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["seq"]) if rows else cursor
    events: list[EventRow] = [_without_seq(row) for row in rows]
    return FeedPage(events=events, cursor=next_cursor, has_more=has_more, channel=access)


async def get_channel_event(
    *, db: Database, principal: Principal, channel_id: str, event_id: str
) -> tuple[EventRow, ChannelAccess]:
    """One event of a readable channel; 404 when missing or published in another channel."""
    access = await check_channel_access(db=db, principal=principal, channel_id=channel_id)
    async with db.read() as conn:
        row = await feed_repo.channel_event(
            conn, scope=principal.read_scope, channel_id=channel_id, event_id=event_id
        )
    if row is None:
        raise NotFound(f"event {event_id!r} not found in channel {channel_id!r}", path="eventId")
    return row, access


def _without_seq(row: Mapping[str, Any]) -> EventRow:
    return {key: value for key, value in row.items() if key != "seq"}
