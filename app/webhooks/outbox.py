"""The webhook target of the delivery point: the transactional outbox.

``stage`` runs inside the publishing (or replaying) transaction and writes one delivery
row per (matching webhook, event), so a delivery exists exactly when its event committed.
Matching costs one SQL statement per distinct (filter, creator scope) over the batch's ids
(the in-memory evaluator for admin-scoped filters on plain fields), never one per event.
The webhook list is cached per process for ``CACHE_TTL_SECONDS`` and reloaded at once
after a change made in this process; other processes see a change within the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from ulid import ULID

from app.events.archive import event_json
from app.events.delivery import DeliveryKind
from app.events.read import EventRow
from db.database import WriteConn
from db.query.ast import TRUE, Filter
from db.query.filter_memory import matches, relations_used
from db.query.scope import ReadScope
from db.repositories import webhooks as repo
from db.types import format_datetime

FilterParser = Callable[[Any], Filter]
"""Turns a stored EventFilter (JSON, as the API accepted it) into the query AST."""

CACHE_TTL_SECONDS = 1.0
_version = 0


def webhooks_changed() -> None:
    """Called after any webhook change: caches in this process reload on next use."""
    global _version
    _version += 1


@dataclass(frozen=True, slots=True)
class StagedHook:
    id: str
    channel_id: str | None
    filter: Filter
    scope: ReadScope
    enabled: bool

    @property
    def key(self) -> tuple[ReadScope, str]:
        return self.scope, repr(self.filter)

    @property
    def in_memory(self) -> bool:
        return self.scope.admin and not relations_used(self.filter)


def _scope(raw: dict[str, Any]) -> ReadScope:
    return ReadScope(
        admin=bool(raw.get("admin")),
        channel_ids=frozenset(raw.get("channel_ids") or ()),
        workspace_ids=frozenset(raw.get("workspace_ids") or ()),
    )


def message_id() -> str:
    return f"msg_{ULID()}"


def payload(row: EventRow, kind: DeliveryKind, timestamp: str) -> str:
    """The JSON body POSTed for ``row``; the same bytes on every attempt."""
    body = {"type": kind.value, "timestamp": timestamp, "data": event_json(row)}
    return orjson.dumps(body).decode()


class WebhookOutbox:
    """A ``DeliveryTarget``; ``wake`` nudges this process's dispatcher after a commit."""

    def __init__(self, *, parse_filter: FilterParser, wake: Callable[[], None]) -> None:
        self._parse_filter = parse_filter
        self._wake = wake
        self._hooks: list[StagedHook] = []
        self._loaded_at = -CACHE_TTL_SECONDS
        self._loaded_version = -1

    async def _current(self, conn: WriteConn) -> list[StagedHook]:
        fresh = time.monotonic() - self._loaded_at < CACHE_TTL_SECONDS
        if fresh and self._loaded_version == _version:
            return self._hooks
        version, now = _version, datetime.now(UTC)
        hooks = []
        for row in await repo.webhooks_with_creators(conn):
            expires = row["token_expires_at"]
            if row["token_missing"] or row["token_revoked_at"] is not None:
                continue
            if expires is not None and expires <= now:
                continue
            raw = row["filter"]
            hooks.append(
                StagedHook(
                    id=row["id"],
                    channel_id=row["channel_id"],
                    filter=TRUE if raw is None else self._parse_filter(raw),
                    scope=_scope(row["scope"]),
                    enabled=row["enabled"],
                )
            )
        self._hooks, self._loaded_at, self._loaded_version = hooks, time.monotonic(), version
        return hooks

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        if not rows:
            return
        hooks = await self._current(conn)
        if not hooks:
            return
        channels = {row["channel_id"] for row in rows}
        hooks = [h for h in hooks if h.channel_id is None or h.channel_id in channels]
        ids = [row["id"] for row in rows]
        matched: dict[tuple[ReadScope, str], set[str]] = {}
        for hook in hooks:
            if hook.key in matched:
                continue
            if hook.in_memory:
                matched[hook.key] = {r["id"] for r in rows if matches(hook.filter, r)}
            else:
                matched[hook.key] = await repo.matching_event_ids(
                    conn, ids=ids, scope=hook.scope, query_filter=hook.filter
                )
        now = datetime.now(UTC)
        stamp = format_datetime(now)
        bodies: dict[str, str] = {}
        deliveries = []
        for hook in hooks:
            hits = matched[hook.key]
            for row in rows:
                if row["id"] not in hits:
                    continue
                if hook.channel_id is not None and row["channel_id"] != hook.channel_id:
                    continue
                body = bodies.get(row["id"])
                if body is None:
                    body = bodies[row["id"]] = payload(row, kind, stamp)
                deliveries.append(
                    {
                        "id": message_id(),
                        "webhook_id": hook.id,
                        "event_id": row["id"],
                        "event_seq": row.get("seq") or 0,
                        "kind": kind.value,
                        "body": body,
                        "status": "pending" if hook.enabled else "skipped",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "lease_owner": None,
                        "lease_until": None,
                        "created_at": now,
                        "finished_at": None,
                    }
                )
        await repo.insert_deliveries(conn, deliveries)

    async def committed(self, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        if self._hooks:
            self._wake()
