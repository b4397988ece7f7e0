"""Per-channel counters answer ``totalCount`` of a scope, and stay exact under a
concurrent mix of publishers, deletes, purges and imports (compared with COUNT(*))."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, text

from app.auth.principal import ADMIN
from app.errors import NotFound
from app.events.archive import import_events
from app.events.delete import delete_event
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.events.read import EventQuery, PageRequest, list_events
from app.events.retention import purge_before
from app.settings import Settings
from db.database import Database
from db.query.ast import And, Compare
from db.query.scope import ANONYMOUS_SCOPE, ReadScope, readable
from db.tables import counts_table, events_table
from tests.app.conftest import make_channel, make_workspace

CHANNELS = {"c1": "w1", "c2": "w1", "p3": "w1", "p4": "w2"}  # p* are private
SCOPES = (
    ADMIN.read_scope,
    ANONYMOUS_SCOPE,
    ReadScope(channel_ids=frozenset({"p3"})),
    ReadScope(workspace_ids=frozenset({"w2"})),
    ReadScope(channel_ids=frozenset({"p4"}), workspace_ids=frozenset({"w2"})),
)


async def _setup(db: Database) -> None:
    for workspace in sorted(set(CHANNELS.values())):
        await make_workspace(db, workspace)
    for channel, workspace in CHANNELS.items():
        await make_channel(db, channel, workspace_id=workspace, private=channel.startswith("p"))


async def _publish(db: Database, settings: Settings, channel: str, n: int) -> None:
    drafts = [EventDraft(type="t", data={"i": i}) for i in range(n)]
    await publish_events(
        db=db,
        settings=settings,
        principal=ADMIN,
        channel_id=channel,
        drafts=drafts,
        delivery=Delivery(),
    )


async def _total(db: Database, scope: ReadScope, **query: Any) -> int | None:
    filters = [Compare(field, "eq", value) for field, value in query.items()]
    page = await list_events(
        db=db,
        scope=scope,
        query=EventQuery(filter=And(tuple(filters))),
        page=PageRequest(first=1),
        max_page_size=10,
        with_total=True,
    )
    return page.total


async def _counted(db: Database, scope: ReadScope, **where: str) -> int:
    statement = select(func.count()).select_from(events_table).where(readable(scope))
    for field, value in where.items():
        statement = statement.where(events_table.c[field] == value)
    async with db.read() as conn:
        return int((await conn.execute(statement)).scalar_one())


async def _assert_exact(db: Database) -> None:
    async with db.read() as conn:
        rows = await conn.execute(
            select(events_table.c.channel_id, events_table.c.workspace_id, func.count()).group_by(
                events_table.c.channel_id, events_table.c.workspace_id
            )
        )
        expected = {(c, w): n for c, w, n in rows}
        counters = await conn.execute(select(counts_table).where(counts_table.c.n != 0))
        stored = {(r.channel_id, r.workspace_id): r.n for r in counters}
    assert stored == expected
    for scope in SCOPES:
        assert await _total(db, scope) == await _counted(db, scope)
        assert await _total(db, scope, channel_id="p4") == await _counted(
            db, scope, channel_id="p4"
        )
        assert await _total(db, scope, workspace_id="w1") == await _counted(
            db, scope, workspace_id="w1"
        )


async def test_counters_answer_scope_totals_and_other_filters_count_rows(
    db: Database, settings: Settings
) -> None:
    await _setup(db)
    for channel in CHANNELS:
        await _publish(db, settings, channel, 3)
    await _assert_exact(db)
    # Skew one counter on purpose: scope-only totals come from it, any other filter not.
    async with db.transaction() as conn:
        await conn.execute(text("UPDATE event_counts SET n = n + 100 WHERE channel_id = 'c1'"))
    assert await _total(db, ANONYMOUS_SCOPE) == 6 + 100
    assert await _total(db, ANONYMOUS_SCOPE, channel_id="c1") == 3 + 100
    assert await _total(db, ANONYMOUS_SCOPE, channel_id="c2") == 3
    assert await _total(db, ANONYMOUS_SCOPE, type="t") == 6
    assert await _total(db, ANONYMOUS_SCOPE, channel_id="c1", type="t") == 3


async def test_counters_stay_exact_under_concurrent_writers(
    db: Database, settings: Settings
) -> None:
    await _setup(db)
    rng = random.Random(12)
    stop = asyncio.Event()
    done = {"deleted": 0, "purged": 0}

    async def publisher() -> None:
        for _ in range(15):
            await _publish(db, settings, rng.choice(list(CHANNELS)), rng.randint(1, 4))

    async def deleter() -> None:
        while not stop.is_set():
            async with db.read() as conn:
                ids = list((await conn.execute(select(events_table.c.id).limit(20))).scalars())
            if ids:
                try:  # two deleters may race for one event: only one may count it
                    await delete_event(db=db, principal=ADMIN, event_id=rng.choice(ids))
                    done["deleted"] += 1
                except NotFound:
                    pass
            await asyncio.sleep(0)

    async def purger() -> None:
        while not stop.is_set():
            done["purged"] += await purge_before(
                db=db, before=datetime.now(UTC) - timedelta(milliseconds=30), batch_size=3
            )
            await asyncio.sleep(0.01)

    async def importer() -> None:
        for batch in range(5):
            lines = [
                orjson.dumps(
                    {
                        "id": f"01IMPORT{batch:02d}{i:016d}",
                        "type": "imported",
                        "channelId": channel,
                        "workspaceId": CHANNELS[channel],
                        "data": i,
                        "createdAt": datetime.now(UTC).isoformat(),
                    }
                )
                for i, channel in enumerate(sorted(CHANNELS))
            ]
            await import_events(db=db, lines=lines, batch_size=3)

    writers = [asyncio.create_task(publisher()) for _ in range(8)]
    writers.append(asyncio.create_task(importer()))
    others = [asyncio.create_task(deleter()) for _ in range(3)]
    others += [asyncio.create_task(purger()) for _ in range(2)]
    await asyncio.gather(*writers)
    stop.set()
    await asyncio.gather(*others)
    assert done["deleted"] > 0, done
    assert done["purged"] > 0, done
    await _assert_exact(db)
    # The deleters and purgers may have emptied the store in a slow run (a purge takes what
    # is 30 ms old): the counters must go on counting from wherever the race left them.
    for channel in CHANNELS:
        await _publish(db, settings, channel, 2)
    assert await _counted(db, ADMIN.read_scope) >= 2 * len(CHANNELS)
    await _assert_exact(db)
