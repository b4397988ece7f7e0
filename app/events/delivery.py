"""The one delivery point every write path hands its events to.

Publishing (GraphQL and REST) and replay call the same ``Delivery`` held by ``AppState``:
``stage`` runs inside the writing transaction (a durable outbox, e.g. webhook deliveries,
commits or rolls back with the events), ``committed`` runs after the commit (e.g. waking
the realtime tail). ``stage_wake`` runs inside the transaction before the rows are
written, so before the position lock is taken (a NOTIFY that PostgreSQL delivers at the
commit). Targets are registered once at start-up, so no caller can forget one.

A publish on PostgreSQL is one statement that commits on its own when every target can
say before the insert what it stages (``stage_in_statement``): an outbox row written by
that statement, or nothing. Otherwise it is a transaction and ``stage`` runs inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from app.events.read import EventRow
from db.database import ConnOnDemand, WriteConn
from db.notify import Notice
from db.repositories.event_writes import OutboxRow


class DeliveryKind(Enum):
    PUBLISHED = "event.published"
    REPLAYED = "event.replayed"


class Staging(Enum):
    """What ``stage_in_statement`` answers when it has no outbox row to write."""

    NOTHING = "nothing"  # nothing to stage for these events
    TRANSACTION = "transaction"  # ``stage`` must run inside the writing transaction


InStatement = OutboxRow | Staging


class DeliveryTarget(Protocol):
    """Something that receives every published or replayed event."""

    async def stage_in_statement(
        self, conn: ConnOnDemand, channel: Mapping[str, Any], rows: Sequence[EventRow]
    ) -> InStatement:
        """For a publish of ``rows`` (checked, not stored yet: no ``seq``) into
        ``channel`` as one statement: the outbox row that statement writes beside them,
        ``NOTHING``, or ``TRANSACTION`` when staging needs the stored rows."""

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        """Inside the writing transaction; raising rolls the write back."""

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        """After the commit; must not raise for a delivery problem (log and count it).
        ``channel``: the one the rows were published into, as the publish checked it
        (``None`` for a replay)."""


class WakeTarget(Protocol):
    """Something woken by the commit of every publish."""

    async def stage_wake(self, conn: WriteConn, kind: DeliveryKind) -> None:
        """Inside the writing transaction, before its rows are written; raising rolls the
        write back. Must cost no round trip once the rows exist (the lock is held then)."""

    def wake_notice(self, kind: DeliveryKind) -> Notice | None:
        """``stage_wake`` as a notice sent with the commit of a one-statement publish."""


@dataclass(frozen=True, slots=True)
class Delivery:
    targets: tuple[DeliveryTarget, ...] = ()
    wakes: tuple[WakeTarget, ...] = ()

    async def stage_wake(self, conn: WriteConn, kind: DeliveryKind) -> None:
        for wake in self.wakes:
            await wake.stage_wake(conn, kind)

    def wake_notices(self, kind: DeliveryKind) -> list[Notice]:
        notices = (wake.wake_notice(kind) for wake in self.wakes)
        return [notice for notice in notices if notice is not None]

    async def stage_in_statement(
        self, conn: ConnOnDemand, channel: Mapping[str, Any], rows: Sequence[EventRow]
    ) -> InStatement:
        """The one outbox row a one-statement publish writes, ``NOTHING``, or
        ``TRANSACTION`` (a target needs it, or two targets each have a row)."""
        found: InStatement = Staging.NOTHING
        for target in self.targets:
            staged = await target.stage_in_statement(conn, channel, rows)
            if staged is Staging.NOTHING:
                continue
            if staged is Staging.TRANSACTION or found is not Staging.NOTHING:
                return Staging.TRANSACTION
            found = staged
        return found

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        for target in self.targets:
            await target.stage(conn, rows, kind)

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        for target in self.targets:
            await target.committed(rows, kind, channel)
