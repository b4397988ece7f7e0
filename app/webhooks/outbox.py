"""The webhook target of the delivery point: the transactional outbox.

``stage`` runs inside the publishing (or replaying) transaction and writes one outbox row
for the whole batch (the events' ids and which webhooks matched which events), so the
deliveries exist exactly when their events committed, at the cost of one small INSERT
whatever the number of webhooks. A one-statement publish (PostgreSQL) gets the same row
from ``stage_in_statement`` and its insert statement writes it. ``app.webhooks.expansion``
(run by the dispatcher) turns it into delivery rows. Delivery rows reference the event;
the body is built when it is sent (``payload``).

Filters without relations are matched in memory (for a one-statement publish, the
creator's scope against the channel row too); the others cost one SQL statement per
distinct (filter, creator scope) over the stored batch's ids and need the transaction.
Never one statement per event or per webhook.
The webhook list is cached per process for ``CACHE_TTL_SECONDS`` and reloaded at once
after a change made in this process; other processes see a change within the TTL.
A commit wakes this process's dispatcher only while a cached webhook is enabled: outbox
rows for paused webhooks alone are expanded by its next poll, many in one pass (a resume
expands the outbox first, so they are still skipped).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from app.events.archive import event_json
from app.events.delivery import DeliveryKind, InStatement, Staging
from app.events.read import EventRow
from db.database import ConnOnDemand, WriteConn, at_hand
from db.query.ast import TRUE, Filter
from db.query.filter_memory import matches, relations_used
from db.query.scope import ReadScope
from db.repositories import webhook_outbox as outbox_repo
from db.repositories import webhooks as repo
from db.repositories.event_writes import OutboxRow
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
    enabled: bool
    filter: Filter
    scope: ReadScope
    # Derived once when the webhook list is loaded, not on every publish.
    key: tuple[ReadScope, str] = field(init=False)
    relations: bool = field(init=False)
    """Whether the filter tests related rows (then it is matched in SQL)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.scope, repr(self.filter)))
        object.__setattr__(self, "relations", bool(relations_used(self.filter)))

    @property
    def in_memory(self) -> bool:
        return self.scope.admin and not self.relations


def _reads(scope: ReadScope, channel: Mapping[str, Any]) -> bool:
    """Whether ``scope`` reads the events of ``channel`` (``db.query.scope.readable``)."""
    return (
        scope.admin
        or not channel["private"]
        or channel["id"] in scope.channel_ids
        or channel["workspace_id"] in scope.workspace_ids
    )


def _targets(
    hooks: Sequence[StagedHook],
    rows: Sequence[EventRow],
    matched: Mapping[tuple[ReadScope, str], set[str] | None],
) -> list[tuple[str, list[int] | None]]:
    """The outbox's ``hooks`` entry: per webhook with a match, the indexes of its events
    in ``rows`` (``None``: all of them)."""
    channels = {row["channel_id"] for row in rows}
    targets: list[tuple[str, list[int] | None]] = []
    for hook in hooks:
        hits = matched[hook.key]
        if hits is None and (hook.channel_id is None or len(channels) == 1):
            targets.append((hook.id, None))  # every event of the batch
            continue
        picked = [
            index
            for index, row in enumerate(rows)
            if (hits is None or row["id"] in hits)
            and (hook.channel_id is None or row["channel_id"] == hook.channel_id)
        ]
        if picked:
            targets.append((hook.id, picked))
    return targets


def _scope(raw: dict[str, Any]) -> ReadScope:
    return ReadScope(
        admin=bool(raw.get("admin")),
        channel_ids=frozenset(raw.get("channel_ids") or ()),
        workspace_ids=frozenset(raw.get("workspace_ids") or ()),
    )


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
        self._enabled = False  # whether a cached webhook is enabled (then commits wake)
        self._loaded_at = -CACHE_TTL_SECONDS
        self._loaded_version = -1

    async def _current(self, conn: ConnOnDemand) -> list[StagedHook]:
        fresh = time.monotonic() - self._loaded_at < CACHE_TTL_SECONDS
        if fresh and self._loaded_version == _version:
            return self._hooks
        version, now = _version, datetime.now(UTC)
        hooks = []
        for row in await repo.webhooks_with_creators(await conn()):
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
                    enabled=bool(row["enabled"]),
                    filter=TRUE if raw is None else self._parse_filter(raw),
                    scope=_scope(row["scope"]),
                )
            )
        self._hooks, self._loaded_at, self._loaded_version = hooks, time.monotonic(), version
        self._enabled = any(hook.enabled for hook in hooks)
        return hooks

    async def stage_in_statement(
        self, conn: ConnOnDemand, channel: Mapping[str, Any], rows: Sequence[EventRow]
    ) -> InStatement:
        """The outbox row of a one-statement publish into ``channel``, matched in memory:
        the creator's scope against the channel row, the filter against the rows. A filter
        with relations needs the stored rows in SQL: then ``TRANSACTION``."""
        hooks = [
            hook
            for hook in await self._current(conn)
            if hook.channel_id is None or hook.channel_id == channel["id"]
        ]
        matched: dict[tuple[ReadScope, str], set[str] | None] = {}
        for hook in hooks:
            if hook.key in matched:
                continue
            if hook.relations:
                return Staging.TRANSACTION
            if not _reads(hook.scope, channel):
                matched[hook.key] = set()
            elif hook.filter == TRUE:
                matched[hook.key] = None
            else:
                matched[hook.key] = {r["id"] for r in rows if matches(hook.filter, r)}
        targets = _targets(hooks, rows, matched)
        if not targets:
            return Staging.NOTHING
        return OutboxRow(DeliveryKind.PUBLISHED.value, orjson.dumps(targets).decode())

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        if not rows:
            return
        hooks = await self._current(at_hand(conn))
        if not hooks:
            return
        channels = {row["channel_id"] for row in rows}
        hooks = [h for h in hooks if h.channel_id is None or h.channel_id in channels]
        targets = _targets(hooks, rows, await self._match(conn, hooks, rows))
        if not targets:
            return
        entries = {"events": [[r["id"], r.get("seq") or 0] for r in rows], "hooks": targets}
        await outbox_repo.queue_outbox(
            conn,
            kind=kind.value,
            created_at=datetime.now(UTC),
            entries=orjson.dumps(entries).decode(),
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
                matched[hook.key] = await outbox_repo.matching_event_ids(
                    conn, ids=ids, scope=hook.scope, query_filter=hook.filter
                )
        return matched

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        """Wakes the dispatcher when a webhook is enabled. What only paused webhooks get
        (skipped ranges) waits for its next poll, which expands many outbox rows at once."""
        if self._enabled:
            self._wake()
