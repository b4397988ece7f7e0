"""Lookups by id (event parent, channel, workspace), batched per request with the scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from db.database import Database
from db.query.scope import ReadScope

Row = Mapping[str, Any]
BatchGet = Callable[..., Awaitable[Mapping[str, Row]]]


def by_id_loader(db: Database, scope: ReadScope, get_many: BatchGet) -> DataLoader[str, Row | None]:
    """A loader over ``get_many(db=, scope=, ids=) -> {id: row}``; unreadable ids load None."""

    async def load(ids: Sequence[str]) -> list[Row | None]:
        found = await get_many(db=db, scope=scope, ids=list(dict.fromkeys(ids)))
        return [found.get(key) for key in ids]

    return DataLoader(load_fn=load)
