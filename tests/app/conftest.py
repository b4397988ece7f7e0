"""Service-level fixtures: a real migrated database and small builders over the services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from app.auth.principal import ADMIN, Principal
from app.auth.tokens import authenticate
from app.channels.service import create_channel
from app.settings import Settings
from app.tokens.service import create_token
from app.workspaces.service import create_workspace
from db.database import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def make_workspace(db: Database, id: str = "ws") -> str:
    row = await create_workspace(db=db, principal=ADMIN, id=id, name=id.upper())
    return str(row["id"])


async def make_channel(
    db: Database, id: str, *, workspace_id: str = "ws", private: bool = False, **kw: Any
) -> str:
    row = await create_channel(
        db=db,
        principal=ADMIN,
        id=id,
        name=id.title(),
        workspace_id=workspace_id,
        private=private,
        **kw,
    )
    return str(row["id"])


async def make_principal(
    db: Database,
    settings: Settings,
    *,
    kind: str = "publish",
    channel_ids: Sequence[str] = (),
    workspace_ids: Sequence[str] = (),
    publisher_id: str | None = None,
) -> Principal:
    _, secret = await create_token(
        db=db,
        principal=ADMIN,
        name=f"{kind} token",
        kind=kind,
        channel_ids=channel_ids,
        workspace_ids=workspace_ids,
        publisher_id=publisher_id,
        publisher_name=publisher_id and publisher_id.title(),
    )
    return await authenticate(db=db, settings=settings, secret=secret)
