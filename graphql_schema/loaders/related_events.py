"""Connections of events grouped by a column: ``children``, ``Channel.events``,
``Workspace.events``. One loader key per (group column, arguments, owner id); keys sharing
the arguments are read in one statement for all owners (strawberry-sqlalchemy's
``PaginatedLoader`` pattern)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from strawberry.dataloader import DataLoader

from app.events import read as event_read
from app.events.read import EventPage, EventQuery, PageRequest
from db.database import Database
from db.query.scope import ReadScope

GroupField = Literal["parent_id", "channel_id", "workspace_id"]


@dataclass(frozen=True, slots=True)
class RelatedKey:
    group_field: GroupField
    query: EventQuery
    page: PageRequest
    owner: str


def _args_key(key: RelatedKey) -> str:
    # Filters may hold JSON (dicts), so keys are compared by their repr, not their hash.
    return repr((key.group_field, key.query, key.page))


def _cache_key(key: RelatedKey) -> str:
    return repr((key.group_field, key.query, key.page, key.owner))


def _groups(keys: Sequence[RelatedKey]) -> dict[str, list[RelatedKey]]:
    groups: dict[str, list[RelatedKey]] = defaultdict(list)
    for key in keys:
        groups[_args_key(key)].append(key)
    return groups


def related_pages_loader(
    db: Database, scope: ReadScope, max_page_size: int
) -> DataLoader[RelatedKey, EventPage]:
    async def load(keys: Sequence[RelatedKey]) -> list[EventPage]:
        pages: dict[str, EventPage] = {}
        for group in _groups(keys).values():
            first = group[0]
            found = await event_read.list_related_events(
                db=db,
                scope=scope,
                group_field=first.group_field,
                keys=list(dict.fromkeys(key.owner for key in group)),
                query=first.query,
                page=first.page,
                max_page_size=max_page_size,
            )
            for key in group:
                pages[_cache_key(key)] = found.get(key.owner) or EventPage([], [], False, False)
        return [pages[_cache_key(key)] for key in keys]

    return DataLoader(load_fn=load, cache_key_fn=_cache_key)


def related_counts_loader(db: Database, scope: ReadScope) -> DataLoader[RelatedKey, int]:
    async def load(keys: Sequence[RelatedKey]) -> list[int]:
        counts: dict[str, int] = {}
        for group in _groups(keys).values():
            first = group[0]
            found = await event_read.count_related_events(
                db=db,
                scope=scope,
                group_field=first.group_field,
                keys=list(dict.fromkeys(key.owner for key in group)),
                query=first.query,
            )
            for key in group:
                counts[_cache_key(key)] = found.get(key.owner, 0)
        return [counts[_cache_key(key)] for key in keys]

    return DataLoader(load_fn=load, cache_key_fn=_cache_key)
