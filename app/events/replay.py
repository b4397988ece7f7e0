"""Replaying stored events through delivery (subscriptions, webhooks) by ids or filter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.auth.principal import Principal
from app.errors import BadInput, Unauthenticated
from app.events import read as read_service
from app.events.delivery import Delivery, DeliveryKind
from app.events.read import EventQuery, EventRow, PageRequest
from db.database import Database
from db.query.ast import And, Compare, Filter, OrderKey

MAX_REPLAY_IDS = 1000
REPLAY_BATCH = 100
NOT_FOUND = "Event not found"
OLDEST_FIRST = (OrderKey("created_at", "asc", "last"), OrderKey("id", "asc", "last"))


@dataclass(frozen=True, slots=True)
class ReplayError:
    event_id: str
    error: str


@dataclass(slots=True)
class ReplayResult:
    replayed: int = 0
    errors: list[ReplayError] = field(default_factory=list)


async def replay_events(
    *,
    db: Database,
    principal: Principal,
    ids: Sequence[str] | None,
    filter: Filter | None,
    limit: int | None,
    delivery: Delivery,
) -> ReplayResult:
    """Re-deliver events the caller can read.

    ``ids`` replays those events in the order listed (missing or unreadable ones are
    reported as "Event not found"); ``filter`` replays every match, oldest first; both
    replays the listed ids that match the filter. ``limit`` caps the events replayed by
    the whole request. Each batch is staged with ``delivery`` in its own transaction and
    handed to it after the commit, marked as a replay.
    """
    if not principal.is_authenticated:
        raise Unauthenticated("replaying requires a token")
    if ids is None and filter is None:
        raise BadInput("pass event ids, a filter, or both", path="ids")
    if limit is not None and limit < 1:
        raise BadInput("limit must be at least 1", path="limit")
    result = ReplayResult()

    async def deliver(rows: list[EventRow]) -> None:
        if rows and delivery.targets:
            async with db.transaction() as conn:
                await delivery.stage(conn, rows, DeliveryKind.REPLAYED)
            await delivery.committed(rows, DeliveryKind.REPLAYED, None)
        result.replayed += len(rows)

    if ids is not None:
        await _replay_ids(db, principal, list(ids), filter, limit, deliver, result)
    else:
        assert filter is not None
        await _replay_filter(db, principal, filter, limit, deliver)
    return result


async def _replay_ids(
    db: Database,
    principal: Principal,
    ids: list[str],
    query_filter: Filter | None,
    limit: int | None,
    deliver: Callable[[list[EventRow]], Awaitable[None]],
    result: ReplayResult,
) -> None:
    if len(ids) > MAX_REPLAY_IDS:
        raise BadInput(f"at most {MAX_REPLAY_IDS} event ids", path="ids")
    for index, value in enumerate(ids):
        if not isinstance(value, str) or not value:
            raise BadInput("event ids must be non-empty strings", path=f"ids[{index}]")
    unique = list(dict.fromkeys(ids))
    scope = principal.read_scope
    remaining = limit
    for start in range(0, len(unique), REPLAY_BATCH):
        chunk = unique[start : start + REPLAY_BATCH]
        found = await read_service.get_events(db=db, scope=scope, ids=chunk)
        matching = set(found)
        if query_filter is not None and found:
            query = EventQuery(filter=query_filter, ids=tuple(found))
            page = await read_service.list_events(
                db=db,
                scope=scope,
                query=query,
                page=PageRequest(first=len(found)),
                max_page_size=REPLAY_BATCH,
            )
            matching = {row["id"] for row in page.rows}
        rows: list[EventRow] = []
        for event_id in chunk:
            if event_id not in found:
                result.errors.append(ReplayError(event_id=event_id, error=NOT_FOUND))
            elif event_id in matching and (remaining is None or len(rows) < remaining):
                rows.append(found[event_id])
        await deliver(rows)
        if remaining is not None:
            remaining -= len(rows)


async def _replay_filter(
    db: Database,
    principal: Principal,
    query_filter: Filter,
    limit: int | None,
    deliver: Callable[[list[EventRow]], Awaitable[None]],
) -> None:
    query = EventQuery(filter=query_filter, order=OLDEST_FIRST)
    remaining = limit
    after: str | None = None
    while remaining is None or remaining > 0:
        size = REPLAY_BATCH if remaining is None else min(REPLAY_BATCH, remaining)
        page = await read_service.list_events(
            db=db,
            scope=principal.read_scope,
            query=query,
            page=PageRequest(first=size, after=after),
            max_page_size=REPLAY_BATCH,
        )
        await deliver(list(page.rows))
        if remaining is not None:
            remaining -= len(page.rows)
        if not page.has_next_page or not page.rows:
            return
        after = page.end_cursor


def admin_filter(
    *,
    event: str | None,
    user_id: str | None,
    from_: datetime | None,
    to: datetime | None,
) -> Filter:
    """Seed 001's ``{event, userId, from, to}`` as a filter (bounds are inclusive)."""
    leaves: list[Filter] = []
    if event is not None:
        leaves.append(Compare("type", "eq", event))
    if user_id is not None:
        leaves.append(Compare("user_id", "eq", user_id))
    if from_ is not None:
        leaves.append(Compare("created_at", "gte", from_))
    if to is not None:
        leaves.append(Compare("created_at", "lte", to))
    return And(tuple(leaves))
