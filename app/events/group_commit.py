"""Group commit of one-statement publishes within a process (PostgreSQL).

Publishes serialise on the position lock, held through each statement's commit (its WAL
flush). So while ``MAX_IN_FLIGHT`` publish statements of this process are in flight, later
publishes do not send theirs: they queue here, and when one returns the first of them
sends ONE statement for all of them (``event_writes.insert_parts``: one lock, one flush, one
wake-up notice, each publish's outbox row), on its own connection. Each publish keeps
its rows contiguous and learns its own positions; nobody is answered before that
statement committed.

A publish never fails because of another: when a joined statement is refused by the
database (a stale channel copy, a constraint, a statement error) it stored nothing, and
every member sends its own statement, as if it had never queued. Only an outcome that is
unknown (the connection lost after the statement was sent) is everyone's: each member
gets it, as a lone publish would (docs/faults.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from app.observability.metrics import PUBLISH_JOINED, PUBLISH_STATEMENTS
from db.database import ConnOnDemand, Database, DatabaseUnavailable, writing
from db.notify import Notice
from db.publish_connection import KEPT
from db.repositories import event_writes
from db.repositories.event_writes import InsertPart

MAX_GROUP_ROWS = 1000
"""Rows per joined statement; publishes beyond it wait for the next one."""
MAX_IN_FLIGHT = KEPT
"""Statements a process has sent and not seen return (2, each on a kept connection): with
two, the next one already waits for the lock in the server when the one holding it
commits, so the lock is not idle for a round trip and a turn of this process's event loop
between two of them."""

# What a queued member is told: lead the next statement, or send its own.
_LEAD = "lead"
_ALONE = "alone"
_DONE = "done"


@dataclass(eq=False, slots=True)
class _Member:
    part: InsertPart
    notice: Notice | None
    turn: asyncio.Future[str] = field(default_factory=asyncio.Future)


class _Group:
    def __init__(self) -> None:
        self.in_flight = 0  # statements sent or about to be (a member told to lead)
        self.queue: list[_Member] = []

    def lead(self) -> bool:
        """Whether a publish arriving now sends a statement (else it queues)."""
        if self.in_flight < MAX_IN_FLIGHT:
            self.in_flight += 1
            return True
        return False

    def hand_off(self) -> None:
        """A statement returned: the first live queued member leads the next one."""
        self.in_flight -= 1
        while self.queue and self.queue[0].turn.done():
            self.queue.pop(0)
        if self.queue and self.lead():
            self.queue[0].turn.set_result(_LEAD)

    def take(self, leader: _Member) -> list[_Member]:
        """The leader and the queued members that fit in its statement, in queue order."""
        taken = [leader]
        rows = len(leader.part.rows)
        rest: list[_Member] = []
        for member in self.queue:
            if member is leader or member.turn.done():
                continue
            if rows + len(member.part.rows) > MAX_GROUP_ROWS or member.notice != leader.notice:
                rest.append(member)
                continue
            taken.append(member)
            rows += len(member.part.rows)
        self.queue = rest
        return taken


_groups: WeakKeyDictionary[Database, _Group] = WeakKeyDictionary()


async def insert(
    db: Database, conn: ConnOnDemand, part: InsertPart, *, notice: Notice | None
) -> None:
    """Store ``part`` (its rows get ``seq``) in this process's next publish statement, if
    this publish leads it sent on a kept connection (or on ``conn`` while something
    watches SQLAlchemy's statements); raises as ``insert_events`` does."""
    group = _groups.setdefault(db, _Group())
    member = _Member(part, notice)
    if not group.lead():
        group.queue.append(member)
        writing()  # the statement that carries it may be sent: never repeat this publish
        try:
            turn = await member.turn
        except asyncio.CancelledError:
            told = member.turn.done() and not member.turn.cancelled()
            if told and member.turn.result() == _LEAD:
                group.hand_off()  # told to lead, cancelled before it could: pass it on
            raise
        if turn == _DONE:
            return
        if turn == _ALONE:
            await _alone(db, conn, member)
            return
    try:
        members = group.take(member)
        await _run(db, conn, members)
    finally:
        group.hand_off()


async def _send(
    db: Database, conn: ConnOnDemand, parts: list[InsertPart], notice: Notice | None
) -> None:
    PUBLISH_STATEMENTS.inc()
    kept = db.publish_connections
    if kept is not None and not db.statements_watched():
        await event_writes.insert_parts_kept(kept, db.sql_dialect, parts, notice=notice)
    else:
        await event_writes.insert_parts(await conn(), parts, notice=notice)


async def _alone(db: Database, conn: ConnOnDemand, member: _Member) -> None:
    await _send(db, conn, [member.part], member.notice)


async def _run(db: Database, conn: ConnOnDemand, members: list[_Member]) -> None:
    leader, followers = members[0], members[1:]
    if not followers:
        await _alone(db, conn, leader)
        return
    try:
        await _send(db, conn, [m.part for m in members], leader.notice)
    except BaseException as exc:
        if not event_writes.stored_nothing(exc):
            _tell(followers, exc)
            raise
        # Refused by the database, so nothing was stored: each sends its own statement.
        _settle(followers, _ALONE)
        await _alone(db, conn, leader)
        return
    PUBLISH_JOINED.inc(len(followers))
    _settle(followers, _DONE)


def _settle(followers: list[_Member], turn: str) -> None:
    for member in followers:
        if not member.turn.done():  # a cancelled request is not answered
            member.turn.set_result(turn)


def _tell(followers: list[_Member], exc: BaseException) -> None:
    """The joined statement's outcome is unknown: so it is for every member."""
    for member in followers:
        if not member.turn.done():
            member.turn.set_exception(
                exc if isinstance(exc, Exception) else DatabaseUnavailable(str(exc) or "cancelled")
            )
