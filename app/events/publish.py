"""Publishing: validate a batch, then store it atomically in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson

from app.auth.principal import Principal
from app.channels.schemas import validate_data
from app.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from app.events import channel_cache, group_commit, idempotency
from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.read import EventRow, get_events
from app.json_input import check_value
from app.observability.metrics import EVENTS_PUBLISHED
from app.settings import Settings
from app.text import check_text
from db.database import ConnOnDemand, Database, WriteConn, at_hand
from db.notify import Notice
from db.repositories import channels as channel_repo
from db.repositories import event_writes
from db.repositories.channels import ChannelRow
from db.repositories.errors import MissingReferenceError
from db.repositories.event_writes import InsertPart, OutboxRow

MAX_META_BYTES = 16 * 1024
Published = tuple[list[EventRow], Mapping[str, Any]]
"""The events a publish stored and the channel it checked them against."""


@dataclass(frozen=True, slots=True)
class EventDraft:
    """One event as a client submits it (``data`` is required and must not be JSON null)."""

    type: str | None = None
    data: Any = None
    meta: Any = None
    subject_id: str | None = None
    user_id: str | None = None
    parent_id: str | None = None


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _compact_size(value: Any, *, what: str, path: str) -> int:
    try:
        return len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise BadInput(f"{what} is not representable as JSON: {exc}", path=path) from None


# (draft field, input name): short text, checked with ``check_text``.
_TEXT_FIELDS = (
    ("type", "type"),
    ("subject_id", "subjectId"),
    ("user_id", "userId"),
    ("parent_id", "parentId"),
)


def _check_draft(
    draft: EventDraft, channel: Mapping[str, Any], settings: Settings, *, path: str
) -> None:
    for field, name in _TEXT_FIELDS:
        check_text(getattr(draft, field), path=_join(path, name))
    if draft.data is None:
        raise BadInput("data is required and must not be null", path=_join(path, "data"))
    check_value(draft.data, path=_join(path, "data"))
    size = _compact_size(draft.data, what="data", path=_join(path, "data"))
    if size > settings.max_event_bytes:
        raise PayloadTooLarge(
            f"data is {size} bytes as compact JSON; the limit is {settings.max_event_bytes}",
            path=_join(path, "data"),
        )
    if draft.meta is not None:
        check_value(draft.meta, path=_join(path, "meta"))
        meta_size = _compact_size(draft.meta, what="meta", path=_join(path, "meta"))
        if meta_size > MAX_META_BYTES:
            raise PayloadTooLarge(
                f"meta is {meta_size} bytes as compact JSON; the limit is {MAX_META_BYTES}",
                path=_join(path, "meta"),
            )
    if channel["strict_types"]:
        schemas: Mapping[str, Any] = channel["schemas"] or {}
        if draft.type is None or draft.type not in schemas:
            listed = ", ".join(sorted(schemas)) or "none"
            raise BadInput(
                f"channel {channel['id']!r} accepts only the types it lists ({listed})",
                path=_join(path, "type"),
            )
        validate_data(
            channel["id"], draft.type, schemas[draft.type], draft.data, path=_join(path, "data")
        )


async def publish_events(
    *,
    db: Database,
    settings: Settings,
    principal: Principal,
    channel_id: str,
    drafts: Sequence[EventDraft],
    path_prefix: str = "events",
    delivery: Delivery,
    single: bool = False,
    idempotency_key: str | None = None,
    key_path: str = "idempotencyKey",
) -> list[EventRow]:
    """Store ``drafts`` in ``channel_id`` atomically (all or none), in batch order.

    ``path_prefix`` names the input in error paths: ``"events"`` (default) gives
    ``events[3].data``; a single-event caller passes ``path_prefix="event", single=True``
    to get ``event.data`` (an empty prefix with ``single=True`` gives ``data``).
    ``delivery`` stages the events inside the transaction and is told after the commit.
    With ``idempotency_key`` (named ``key_path`` in errors), a repeat of an earlier request
    under the same key stores and delivers nothing and returns the events stored first.
    """
    if not principal.is_authenticated:
        raise Unauthenticated("publishing requires a token")
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key, path=key_path)

    def path_of(index: int) -> str:
        return path_prefix if single else f"{path_prefix}[{index}]"

    async def store(conn: WriteConn) -> tuple[list[str] | None, Published]:
        """(ids stored earlier under the key, or None; the events stored now)."""
        channel = _found(await channel_repo.get_channel(conn, channel_id), channel_id)
        rows = _checked_rows(principal, settings, channel_id, channel, drafts, path_prefix, path_of)
        # Everything that need not see positions runs before the insert, which takes the
        # position lock: the lock is held for that statement, staging and the commit.
        if idempotency_key is not None:
            prior = await idempotency.claim(
                conn,
                principal=principal,
                key=idempotency_key,
                digest=idempotency.request_hash(channel_id, drafts, single=single),
                path=key_path,
            )
            if prior is not None:
                return prior, ([], channel)
            await idempotency.remember(
                conn, principal=principal, key=idempotency_key, event_ids=[r["id"] for r in rows]
            )
        await delivery.stage_wake(conn, DeliveryKind.PUBLISHED)
        stored = await _store(at_hand(conn), principal, channel_id, drafts, rows, path_of)
        await delivery.stage(conn, stored, DeliveryKind.PUBLISHED)
        return None, (stored, channel)

    alone: Published | None = None
    if idempotency_key is None and db.dialect == "postgresql":
        alone = await _publish_alone(
            db, settings, principal, channel_id, drafts, path_prefix, path_of, delivery
        )
    if alone is not None:
        stored, channel = alone
    else:  # one connection and transaction: the channel is read on the writing connection
        prior_ids, (stored, channel) = await db.run_write(store)
        if prior_ids is not None:
            return await _stored_before(db, principal, prior_ids, key_path)
    EVENTS_PUBLISHED.inc(len(stored))
    await delivery.committed(stored, DeliveryKind.PUBLISHED, channel)
    return stored


def rehearsal(delivery: Delivery) -> Callable[[WriteConn], Awaitable[None]]:
    """A publish for ``Database.warm`` to rehearse on each connection and roll back: the
    statement a one-statement publish sends, with the wake-up notice it sends."""
    notices = delivery.wake_notices(DeliveryKind.PUBLISHED)
    return partial(event_writes.rehearse_publish, notice=notices[0] if len(notices) == 1 else None)


async def _publish_alone(
    db: Database,
    settings: Settings,
    principal: Principal,
    channel_id: str,
    drafts: Sequence[EventDraft],
    path_prefix: str,
    path_of: Callable[[int], str],
    delivery: Delivery,
) -> Published | None:
    """The publish as one statement that commits on its own, with its wake-up notice and
    the outbox row the delivery targets stage (PostgreSQL): the position lock is held
    while the server inserts and commits, never across a round trip to this process.
    ``None`` when a target must stage inside a transaction (matching that needs the
    stored rows): then the caller uses one."""
    notices = delivery.wake_notices(DeliveryKind.PUBLISHED)
    if len(notices) > 1:
        return None

    async def store(conn: ConnOnDemand) -> Published | None:
        notice = notices[0] if notices else None

        async def checked_store(held: ChannelRow | None, version: str | None) -> Published | None:
            channel = _found(held, channel_id)
            rows = _checked_rows(
                principal, settings, channel_id, channel, drafts, path_prefix, path_of
            )
            staged = await delivery.stage_in_statement(conn, channel, rows)
            if staged is Staging.TRANSACTION:
                return None
            outbox = None if isinstance(staged, Staging) else staged
            grouped = (db, notice, outbox, version)
            stored = await _store(
                conn, principal, channel_id, drafts, rows, path_of, grouped=grouped
            )
            return stored, channel

        return await channel_cache.with_channel(conn, db, channel_id, checked_store)

    return await db.run_alone(store)


def _found(channel: Mapping[str, Any] | None, channel_id: str) -> Mapping[str, Any]:
    if channel is None:
        raise NotFound(f"channel {channel_id!r} not found", path="channelId")
    return channel


def _checked_rows(
    principal: Principal,
    settings: Settings,
    channel_id: str,
    channel: Mapping[str, Any],
    drafts: Sequence[EventDraft],
    path_prefix: str,
    path_of: Callable[[int], str],
) -> list[dict[str, Any]]:
    """The rows to insert, after every check of the channel, the token and the drafts."""
    if not principal.can_publish(channel_id=channel_id, workspace_id=channel["workspace_id"]):
        raise Forbidden(f"this token may not publish into channel {channel_id!r}")
    if not drafts:
        raise BadInput("at least one event is required", path=path_prefix or None)
    if len(drafts) > settings.max_batch:
        raise PayloadTooLarge(
            f"{len(drafts)} events in one batch; the limit is {settings.max_batch}",
            path=path_prefix or None,
        )

    for index, draft in enumerate(drafts):
        _check_draft(draft, channel, settings, path=path_of(index))
    publisher_id = principal.publisher_id
    publisher_name = principal.publisher_name
    return event_writes.prepare(
        [
            {
                "type": draft.type,
                "channel_id": channel_id,
                "workspace_id": channel["workspace_id"],
                "subject_id": draft.subject_id,
                "user_id": draft.user_id,
                "parent_id": draft.parent_id,
                "publisher_id": publisher_id,
                "publisher_name": publisher_name,
                "data": draft.data,
                "meta": draft.meta,
            }
            for draft in drafts
        ]
    )


async def _store(
    conn: ConnOnDemand,
    principal: Principal,
    channel_id: str,
    drafts: Sequence[EventDraft],
    rows: list[dict[str, Any]],
    path_of: Callable[[int], str],
    *,
    grouped: tuple[Database, Notice | None, OutboxRow | None, str | None] | None = None,
) -> list[EventRow]:
    """Check the parents and insert ``rows``; ``grouped`` (database, notice, outbox row,
    channel version): in this process's next publish statement (``group_commit``)."""
    parent_ids = [draft.parent_id for draft in drafts if draft.parent_id is not None]
    if parent_ids:
        readable = await event_writes.readable_event_ids(
            await conn(), scope=principal.read_scope, ids=parent_ids
        )
        for index, draft in enumerate(drafts):
            if draft.parent_id is not None and draft.parent_id not in readable:
                raise BadInput(
                    f"parent event {draft.parent_id!r} does not exist",
                    path=_join(path_of(index), "parentId"),
                )
    try:
        if grouped is None:
            return list(await event_writes.insert_events(await conn(), rows))
        db, notice, outbox, version = grouped
        await group_commit.insert(db, conn, InsertPart(rows, outbox, version), notice=notice)
        return list(rows)
    except MissingReferenceError:
        raise NotFound(f"channel {channel_id!r} not found", path="channelId") from None


async def _stored_before(
    db: Database, principal: Principal, ids: list[str], key_path: str
) -> list[EventRow]:
    """The events an earlier publish stored under the key, in batch order."""
    found = await get_events(db=db, scope=principal.read_scope, ids=ids)
    if len(found) < len(ids):
        raise Conflict(
            "events published with this idempotency key have been deleted since", path=key_path
        )
    return [found[event_id] for event_id in ids]
