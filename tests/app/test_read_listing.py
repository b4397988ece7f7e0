"""Channel and workspace connections and lookups: scope, filters, keyset paging by id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.channels.read import get_channels, list_channels
from app.errors import BadInput
from app.events.read import PageRequest
from app.workspaces.read import get_workspaces, list_workspaces
from db.database import Database
from db.query.ast import Compare, Not, Related
from db.query.scope import ADMIN_SCOPE, ANONYMOUS_SCOPE, ReadScope
from tests.db.rows import at, insert_channel, insert_events, insert_workspaces

MAX = 50


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def seed(db: Database) -> None:
    await insert_workspaces(db, "w1", "w2", "w3")
    await insert_channel(db, "a-pub", "w1")
    await insert_channel(db, "b-priv", "w1", private=True)
    await insert_channel(db, "c-priv", "w2", private=True)
    await insert_channel(db, "d-pub", "w2")
    await insert_channel(db, "e-priv", "w3", private=True)
    await insert_events(
        db,
        [
            {
                "id": "x1",
                "channel_id": "b-priv",
                "workspace_id": "w1",
                "type": "secret",
                "created_at": at(1),
            },
            {
                "id": "x2",
                "channel_id": "a-pub",
                "workspace_id": "w1",
                "type": "open",
                "created_at": at(2),
            },
        ],
    )


async def ids_of(db: Database, scope: ReadScope, **kw) -> list[str]:
    page = await list_channels(
        db=db, scope=scope, filter=kw.get("filter"), page=PageRequest(), max_page_size=MAX
    )
    return [r["id"] for r in page.rows]


async def test_channels_readable_by_scope(db: Database) -> None:
    await seed(db)
    assert await ids_of(db, ADMIN_SCOPE) == ["a-pub", "b-priv", "c-priv", "d-pub", "e-priv"]
    assert await ids_of(db, ANONYMOUS_SCOPE) == ["a-pub", "d-pub"]
    scoped = ReadScope(channel_ids=frozenset({"c-priv"}), workspace_ids=frozenset({"w3"}))
    assert await ids_of(db, scoped) == ["a-pub", "c-priv", "d-pub", "e-priv"]
    found = await get_channels(db=db, scope=ANONYMOUS_SCOPE, ids=["a-pub", "b-priv", "zz"])
    assert set(found) == {"a-pub"}
    assert found["a-pub"]["workspace_id"] == "w1"


async def test_channel_filters_do_not_leak_unreadable_events(db: Database) -> None:
    await seed(db)
    secret = Related("events", Compare("type", "eq", "secret"), "some")
    assert await ids_of(db, ADMIN_SCOPE, filter=secret) == ["b-priv"]
    # Anonymous cannot read b-priv nor its events, so nothing matches.
    assert await ids_of(db, ANONYMOUS_SCOPE, filter=secret) == []
    empty = Related("events", Compare("id", "isNull", True), "every")
    assert await ids_of(db, ANONYMOUS_SCOPE, filter=Not(empty)) == ["a-pub"]
    in_w2 = Related("workspace", Compare("name", "eq", "W2"))
    assert await ids_of(db, ADMIN_SCOPE, filter=in_w2) == ["c-priv", "d-pub"]
    assert await ids_of(db, ADMIN_SCOPE, filter=Compare("private", "eq", True)) == [
        "b-priv",
        "c-priv",
        "e-priv",
    ]


async def test_channel_paging_by_id_both_directions(db: Database) -> None:
    await seed(db)
    first = await list_channels(
        db=db, scope=ADMIN_SCOPE, filter=None, page=PageRequest(first=2), max_page_size=MAX
    )
    assert [r["id"] for r in first.rows] == ["a-pub", "b-priv"]
    assert first.has_next_page
    assert not first.has_previous_page
    second = await list_channels(
        db=db,
        scope=ADMIN_SCOPE,
        filter=None,
        page=PageRequest(first=2, after=first.end_cursor),
        max_page_size=MAX,
    )
    assert [r["id"] for r in second.rows] == ["c-priv", "d-pub"]
    assert second.has_next_page
    assert second.has_previous_page
    back = await list_channels(
        db=db,
        scope=ADMIN_SCOPE,
        filter=None,
        page=PageRequest(last=1, before=second.start_cursor),
        max_page_size=MAX,
    )
    assert [r["id"] for r in back.rows] == ["b-priv"]
    assert back.has_previous_page
    assert back.has_next_page
    with pytest.raises(BadInput) as info:
        await list_channels(
            db=db,
            scope=ADMIN_SCOPE,
            filter=Compare("private", "eq", True),
            page=PageRequest(first=2, after=first.end_cursor),
            max_page_size=MAX,
        )
    assert info.value.path == "after"


async def test_workspaces_readable_by_scope_or_a_readable_channel(db: Database) -> None:
    await seed(db)

    async def ids(scope: ReadScope, **kw) -> list[str]:
        page = await list_workspaces(
            db=db,
            scope=scope,
            filter=kw.get("filter"),
            page=kw.get("page", PageRequest()),
            max_page_size=MAX,
        )
        return [r["id"] for r in page.rows]

    assert await ids(ADMIN_SCOPE) == ["w1", "w2", "w3"]
    assert await ids(ANONYMOUS_SCOPE) == ["w1", "w2"]
    assert await ids(ReadScope(workspace_ids=frozenset({"w3"}))) == ["w1", "w2", "w3"]
    assert await ids(ReadScope(channel_ids=frozenset({"e-priv"}))) == ["w1", "w2", "w3"]
    assert await ids(
        ADMIN_SCOPE, filter=Compare("name", "startsWith", "W"), page=PageRequest(last=2)
    ) == ["w2", "w3"]
    found = await get_workspaces(db=db, scope=ANONYMOUS_SCOPE, ids=["w1", "w3"])
    assert set(found) == {"w1"}
