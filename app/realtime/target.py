"""The realtime delivery target: commits wake the tails of every process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.events.delivery import DeliveryKind, InStatement, Staging
from app.events.read import EventRow
from app.realtime.hub import Hub
from db.database import ConnOnDemand, WriteConn
from db.notify import Notice


class RealtimeTarget:
    """The events table itself is the log the tails follow; only the wake-up of the other
    processes may be staged (a NOTIFY delivered at the commit)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def stage_wake(self, conn: WriteConn, kind: DeliveryKind) -> None:
        if kind is DeliveryKind.PUBLISHED:
            await self._hub.stage_published(conn)

    def wake_notice(self, kind: DeliveryKind) -> Notice | None:
        return self._hub.wake_notice() if kind is DeliveryKind.PUBLISHED else None

    async def stage_in_statement(
        self, conn: ConnOnDemand, channel: Mapping[str, Any], rows: Sequence[EventRow]
    ) -> InStatement:
        return Staging.NOTHING

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        return None

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        if kind is DeliveryKind.PUBLISHED:
            private = None if channel is None else bool(channel["private"])
            await self._hub.published(rows, private=private)
        else:
            await self._hub.replayed(rows)
