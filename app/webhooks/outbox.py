"""The webhook target of the delivery point: the transactional outbox.

``stage`` runs inside the publishing (or replaying) transaction and writes one narrow
delivery row per (matching webhook, event) in one statement, so a delivery exists exactly
when its event committed. Rows reference the event; the body is built when it is sent
(``payload``). Matching costs one SQL statement per distinct (filter, creator scope) over
the batch's ids (the in-memory evaluator for admin-scoped filters on plain fields; nothing
for an admin's webhook without a filter), never one per event or per webhook.
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


def payload(row: EventRow, kind: str, queued_at: datetime) -> str:
    """The JSON body POSTed for the event ``row``: built from the stored event and the
    delivery's kind and queue time, so every attempt sends the same bytes."""
    body = {"type": kind, "timestamp": format_datetime(queued_at), "data": event_json(row)}
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
        matched = await self._match(conn, hooks, rows)
        ids: list[str] = []
        webhook_ids: list[str] = []
        event_ids: list[str] = []
        event_seqs: list[int] = []
        for hook in hooks:
            hits = matched[hook.key]
            for row in rows:
                if hits is not None and row["id"] not in hits:
                    continue
                if hook.channel_id is not None and row["channel_id"] != hook.channel_id:
                    continue
                ids.append(message_id())
                webhook_ids.append(hook.id)
                event_ids.append(row["id"])
                event_seqs.append(row.get("seq") or 0)
        await repo.stage_deliveries(
            conn,
            ids=ids,
            webhook_ids=webhook_ids,
            event_ids=event_ids,
            event_seqs=event_seqs,
            kind=kind.value,
            now=datetime.now(UTC),
        )

    async def _match(
        self, conn: WriteConn, hooks: Sequence[StagedHook], rows: Sequence[EventRow]
    ) -> dict[tuple[ReadScope, str], set[str] | None]:
        """Per distinct (scope, filter): the matching event ids, ``None`` for all of them.
        Each distinct filter is evaluated once per event, however many webhooks share it."""
        matched: dict[tuple[ReadScope, str], set[str] | None] = {}
        ids = [row["id"] for row in rows]
        for hook in hooks:
            if hook.key in matched:
                continue
            if hook.in_memory:
                if hook.filter == TRUE:
                    matched[hook.key] = None
                else:
                    matched[hook.key] = {r["id"] for r in rows if matches(hook.filter, r)}
            else:
                matched[hook.key] = await repo.matching_event_ids(
                    conn, ids=ids, scope=hook.scope, query_filter=hook.filter
                )
        return matched

    async def committed(self, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        if self._hooks:
            self._wake()
