"""The one delivery point every write path hands its events to.

Publishing (GraphQL and REST) and replay call the same ``Delivery`` held by ``AppState``:
``stage`` runs inside the writing transaction (a durable outbox, e.g. webhook deliveries,
commits or rolls back with the events), ``committed`` runs after the commit (e.g. waking
the realtime tail). ``stage_wake`` runs inside the transaction before the rows are
written, so before the position lock is taken (a NOTIFY that PostgreSQL delivers at the
commit). Targets are registered once at start-up, so no caller can forget one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from app.events.read import EventRow
from db.database import WriteConn
from db.notify import Notice


class DeliveryKind(Enum):
    PUBLISHED = "event.published"
    REPLAYED = "event.replayed"


class DeliveryTarget(Protocol):
    """Something that receives every published or replayed event."""

    async def stages(self, conn: WriteConn, channel_ids: frozenset[str]) -> bool:
        """Whether ``stage`` may write anything for events of ``channel_ids``: when no
        target does, a publish is one statement that commits on its own."""

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        """Inside the writing transaction; raising rolls the write back."""

    async def committed(self, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        """After the commit; must not raise for a delivery problem (log and count it)."""


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

    async def stages(self, conn: WriteConn, channel_ids: frozenset[str]) -> bool:
        for target in self.targets:
            if await target.stages(conn, channel_ids):
                return True
        return False

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        for target in self.targets:
            await target.stage(conn, rows, kind)

    async def committed(self, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        for target in self.targets:
            await target.committed(rows, kind)
