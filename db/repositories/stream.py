"""Reads of the realtime tail and of stream backlogs, all by the commit-ordered ``seq``.

The tail reads without a scope (it fans out to every subscriber and applies each one's
scope in memory); backlogs and relation checks are scoped like every other event read.
Tail rows carry ``channel_private`` so the in-memory scope check needs no second query.
``tail_row`` builds that row from an event this process has just stored, for the tail to
take it without reading it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select

from db.database import ReadConn
from db.event_fields import JSON_COLUMNS
from db.query.ast import Filter
from db.query.dialect_sql import is_one_of
from db.query.scope import ReadScope
from db.repositories.driver_fetch import fetch_rows
from db.repositories.events import scoped_filter
from db.tables import channels_view, events_view, positions_table, tokens_table
from db.types import json_as_read

Row = dict[str, Any]
CHANNEL_PRIVATE = "channel_private"
_TAIL_COLUMNS = tuple(events_view.c.keys())
"""The event columns of a tail row, in its order (then ``CHANNEL_PRIVATE``)."""


def _tail_select() -> Select[Any]:
    e, c = events_view, channels_view
    return select(
        *(e.c[name] for name in _TAIL_COLUMNS), c.c.private.label(CHANNEL_PRIVATE)
    ).select_from(e.join(c, c.c.id == e.c.channel_id))


def tail_row(stored: Mapping[str, Any], *, private: bool, dialect: str) -> Row:
    """The row ``tail`` reads for an event this process has just stored and committed
    (``stored`` as ``event_writes`` returned it, ``seq`` set) in a channel whose ``private``
    flag is ``private``: the same keys in the same order, the values as the database gives
    them back. ``ValueError`` when a JSON value may come back otherwise than can be told
    here (``json_as_read``)."""
    row = {name: stored[name] for name in _TAIL_COLUMNS}
    for name in JSON_COLUMNS:
        row[name] = json_as_read(row[name], dialect)
    row[CHANNEL_PRIVATE] = private
    return row


async def last_position(conn: ReadConn) -> tuple[int, str | None]:
    """The last committed ``seq`` and the id of the event holding it (None when deleted)."""
    last = (await conn.execute(select(positions_table.c.last_seq))).scalar_one_or_none() or 0
    found = await conn.execute(select(events_view.c.id).where(events_view.c.seq == last))
    return int(last), found.scalar_one_or_none()


# Built once and sent through the driver (``driver_fetch``): the tail reads on every
# wake-up that its kept rows do not answer (another process's publishes, the timer).
_TAIL = (
    _tail_select()
    .where(events_view.c.seq > bindparam("after_seq"))
    .order_by(events_view.c.seq)
    .limit(bindparam("limit"))
)


async def tail(conn: ReadConn, *, after_seq: int, limit: int) -> list[Row]:
    """Events with ``seq > after_seq`` in ``seq`` order, every channel, at most ``limit``."""
    rows = await fetch_rows(conn, _TAIL, {"after_seq": after_seq, "limit": limit})
    return [dict(row) for row in rows]


async def by_ids(conn: ReadConn, ids: Sequence[str]) -> list[Row]:
    """Events among ``ids`` (any channel), in the order of ``ids``; missing ones are absent."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    stmt = _tail_select().where(is_one_of(events_view.c.id, unique, conn.dialect.name))
    found = {row["id"]: dict(row) for row in (await conn.execute(stmt)).mappings()}
    return [found[i] for i in unique if i in found]


async def matching_ids(
    conn: ReadConn, *, scope: ReadScope, filter: Filter, ids: Sequence[str]
) -> set[str]:
    """The ids among ``ids`` of readable events matching ``filter`` (one statement)."""
    if not ids:
        return set()
    e = events_view
    stmt = select(e.c.id).where(
        *scoped_filter(scope, filter), is_one_of(e.c.id, list(ids), conn.dialect.name)
    )
    return set((await conn.execute(stmt)).scalars())


async def seq_of(conn: ReadConn, event_id: str) -> int | None:
    """The position of an event, or None when it does not exist.

    Unscoped: a resume position may be an event the subscriber cannot read (the position
    a stream reached); only the position is used, nothing of the event is returned."""
    e = events_view
    stmt = select(e.c.seq).where(e.c.id == event_id)
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def backlog_after(
    conn: ReadConn, *, scope: ReadScope, filter: Filter, after_seq: int, limit: int
) -> list[Row]:
    """Readable matches with ``seq > after_seq``, oldest first, at most ``limit``."""
    e = events_view
    stmt = (
        select(*e.c)
        .where(*scoped_filter(scope, filter), e.c.seq > after_seq)
        .order_by(e.c.seq)
        .limit(limit)
    )
    return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def backlog_last(
    conn: ReadConn, *, scope: ReadScope, filter: Filter, count: int
) -> list[Row]:
    """The last ``count`` readable matches, oldest first."""
    e = events_view
    stmt = select(*e.c).where(*scoped_filter(scope, filter)).order_by(e.c.seq.desc()).limit(count)
    rows = [dict(row) for row in (await conn.execute(stmt)).mappings()]
    rows.reverse()
    return rows


async def live_token_ids(conn: ReadConn, *, ids: Sequence[str], now: datetime) -> set[str]:
    """The ids among ``ids`` of tokens neither revoked nor expired at ``now``."""
    if not ids:
        return set()
    t = tokens_table
    stmt = select(t.c.id).where(
        t.c.id.in_(sorted(set(ids))),
        t.c.revoked_at.is_(None),
        or_(t.c.expires_at.is_(None), t.c.expires_at > now),
    )
    return set((await conn.execute(stmt)).scalars())


def check_filter(scope: ReadScope, filter: Filter) -> None:
    """Compile ``filter`` once (cached): raises ``UnsupportedFilterError`` for a bad one."""
    scoped_filter(scope, filter)
