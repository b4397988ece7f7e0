"""Event read services on a real database: keyset paging in both directions, cursors bound
to their order and filter, exact page info, scope, grouped pages and statement counts."""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from app.errors import BadInput
from app.events.read import (
    EventQuery,
    PageRequest,
    count_related_events,
    get_events,
    list_events,
    list_related_events,
)
from db.database import Database
from db.query.ast import And, Compare, OrderKey, Related, normalize_order
from db.query.scope import ADMIN_SCOPE, ANONYMOUS_SCOPE, ReadScope
from db.repositories import event_statements
from tests.db.rows import at, insert_channel, insert_events, insert_workspaces

MAX = 50


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def seed(db: Database, n: int = 30) -> list[dict[str, Any]]:
    await insert_workspaces(db, "w1", "w2")
    await insert_channel(db, "pub", "w1")
    await insert_channel(db, "priv", "w2", private=True)
    rng = random.Random(7)
    events = []
    for i in range(n):
        channel = "priv" if i % 5 == 0 else "pub"
        events.append(
            {
                "id": f"e{i:02d}",
                "type": rng.choice(["a", "b", "c", None]),
                "subject_id": rng.choice(["x", "y", None]),
                "channel_id": channel,
                "workspace_id": "w2" if channel == "priv" else "w1",
                "parent_id": f"e{i // 4:02d}" if i >= 4 else None,
                "created_at": at(rng.randint(0, 5)),
                "data": {"n": i},
            }
        )
    return await insert_events(db, events)


def _cmp(order: tuple[OrderKey, ...], a: dict[str, Any], b: dict[str, Any]) -> int:
    for key in order:
        x, y = a[key.field], b[key.field]
        if x == y:
            continue
        if x is None or y is None:
            first = (x is None) == (key.nulls == "first")
            return -1 if first else 1
        less = x < y if key.direction == "asc" else x > y
        return -1 if less else 1
    return 0


def expected(rows: list[dict[str, Any]], order: tuple[OrderKey, ...]) -> list[str]:
    ordered = sorted(
        rows, key=functools.cmp_to_key(functools.partial(_cmp, normalize_order(order)))
    )
    return [r["id"] for r in ordered]


ORDERS = [
    (),
    (OrderKey.parse("type", "asc"),),
    (OrderKey.parse("type", "desc"),),
    (OrderKey.parse("type", "asc_nulls_first"),),
    (OrderKey.parse("type", "desc_nulls_last"),),
    (OrderKey.parse("subject_id", "desc"), OrderKey.parse("created_at", "asc")),
    (OrderKey.parse("created_at", "desc_nulls_last"),),
    (OrderKey.parse("type", "asc"), OrderKey.parse("id", "desc")),
]


@pytest.mark.parametrize(
    "order",
    ORDERS,
    ids=lambda o: ",".join(f"{k.field}:{k.direction}:{k.nulls}" for k in o) or "default",
)
async def test_pages_forward_and_backward_cover_the_order_exactly(db: Database, order) -> None:
    rows = [r for r in await seed(db) if r["channel_id"] == "pub"]
    want = expected(rows, order)
    query = EventQuery(order=order)
    seen: list[str] = []
    after = None
    while True:
        page = await list_events(
            db=db,
            scope=ANONYMOUS_SCOPE,
            query=query,
            page=PageRequest(first=7, after=after),
            max_page_size=MAX,
        )
        ids = [r["id"] for r in page.rows]
        assert ids == want[len(seen) : len(seen) + 7]
        assert page.has_previous_page == bool(seen)
        seen += ids
        assert page.has_next_page == (len(seen) < len(want))
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == want

    back: list[str] = []
    before = None
    while True:
        page = await list_events(
            db=db,
            scope=ANONYMOUS_SCOPE,
            query=query,
            page=PageRequest(last=6, before=before),
            max_page_size=MAX,
        )
        ids = [r["id"] for r in page.rows]
        end = len(want) - len(back)
        assert ids == want[max(0, end - 6) : end]
        assert page.has_next_page == bool(back)
        back = ids + back
        assert page.has_previous_page == (len(back) < len(want))
        if not page.has_previous_page:
            break
        before = page.start_cursor
    assert back == want


async def test_window_between_cursors_and_empty_pages_keep_exact_page_info(db: Database) -> None:
    rows = await seed(db)
    want = expected(rows, ())
    query = EventQuery()
    full = await list_events(
        db=db, scope=ADMIN_SCOPE, query=query, page=PageRequest(first=30), max_page_size=MAX
    )
    cursors = full.cursors
    assert [r["id"] for r in full.rows] == want
    page = await list_events(
        db=db,
        scope=ADMIN_SCOPE,
        query=query,
        page=PageRequest(first=3, after=cursors[4], before=cursors[10]),
        max_page_size=MAX,
    )
    assert [r["id"] for r in page.rows] == want[5:8]
    assert page.has_previous_page
    assert page.has_next_page
    page = await list_events(
        db=db,
        scope=ADMIN_SCOPE,
        query=query,
        page=PageRequest(last=10, after=cursors[4], before=cursors[10]),
        max_page_size=MAX,
    )
    assert [r["id"] for r in page.rows] == want[5:10]
    assert page.has_previous_page
    assert page.has_next_page
    # After the last row: empty, but there are rows before it.
    page = await list_events(
        db=db,
        scope=ADMIN_SCOPE,
        query=query,
        page=PageRequest(first=5, after=cursors[-1]),
        max_page_size=MAX,
    )
    assert page.rows == []
    assert page.has_previous_page
    assert not page.has_next_page
    assert page.start_cursor is None
    # first: 0 gives no edges but says whether there is more.
    page = await list_events(
        db=db, scope=ADMIN_SCOPE, query=query, page=PageRequest(first=0), max_page_size=MAX
    )
    assert page.rows == []
    assert page.has_next_page
    assert not page.has_previous_page
    # Default page size is min(100, max).
    page = await list_events(
        db=db, scope=ADMIN_SCOPE, query=query, page=PageRequest(), max_page_size=4
    )
    assert len(page.rows) == 4
    assert page.has_next_page


async def test_offset_paging_for_the_admin_api(db: Database) -> None:
    rows = await seed(db)
    want = expected(rows, ())
    page = await list_events(
        db=db,
        scope=ADMIN_SCOPE,
        query=EventQuery(),
        page=PageRequest(first=10),
        max_page_size=MAX,
        offset=25,
    )
    assert [r["id"] for r in page.rows] == want[25:]
    assert page.has_previous_page
    assert not page.has_next_page


async def test_cursor_is_bound_to_order_and_filter(db: Database) -> None:
    await seed(db)
    page = await list_events(
        db=db, scope=ADMIN_SCOPE, query=EventQuery(), page=PageRequest(first=2), max_page_size=MAX
    )
    cursor = page.end_cursor
    other_order = EventQuery(order=(OrderKey.parse("type", "asc"),))
    other_filter = EventQuery(filter=Compare("type", "eq", "a"))
    for query, request, path in [
        (other_order, PageRequest(first=2, after=cursor), "after"),
        (other_filter, PageRequest(last=2, before=cursor), "before"),
        (EventQuery(), PageRequest(first=2, after="not-a-cursor!"), "after"),
        (EventQuery(), PageRequest(first=2, after="e30="), "after"),
    ]:
        with pytest.raises(BadInput) as info:
            await list_events(
                db=db, scope=ADMIN_SCOPE, query=query, page=request, max_page_size=MAX
            )
        assert info.value.path == path


@pytest.mark.parametrize(
    ("request_", "path"),
    [
        (PageRequest(first=1, last=1), "last"),
        (PageRequest(first=-1), "first"),
        (PageRequest(last=-1), "last"),
        (PageRequest(first=MAX + 1), "first"),
    ],
)
async def test_bad_page_arguments(db: Database, request_: PageRequest, path: str) -> None:
    with pytest.raises(BadInput) as info:
        await list_events(
            db=db, scope=ADMIN_SCOPE, query=EventQuery(), page=request_, max_page_size=MAX
        )
    assert info.value.path == path


async def test_ids_limit_and_filter_limits(db: Database) -> None:
    with pytest.raises(BadInput) as info:
        await list_events(
            db=db,
            scope=ADMIN_SCOPE,
            query=EventQuery(ids=tuple(map(str, range(101)))),
            page=PageRequest(),
            max_page_size=MAX,
        )
    assert info.value.path == "ids"
    deep: Any = Compare("id", "eq", "x")
    for _ in range(11):
        deep = And((deep,))
    with pytest.raises(BadInput):
        await count_events(db=db, scope=ADMIN_SCOPE, query=EventQuery(filter=deep))
    with pytest.raises(BadInput):
        await count_events(
            db=db,
            scope=ADMIN_SCOPE,
            query=EventQuery(filter=Compare("id", "in", tuple(map(str, range(501))))),
        )


async def count_events(db: Database, scope: ReadScope, query: EventQuery) -> int | None:
    page = PageRequest(first=0)
    counted = await list_events(
        db=db, scope=scope, query=query, page=page, max_page_size=MAX, with_total=True
    )
    return counted.total


async def test_scope_applies_to_lists_counts_lookups_and_relations(db: Database) -> None:
    rows = await seed(db)
    public = {r["id"] for r in rows if r["channel_id"] == "pub"}
    assert await count_events(db=db, scope=ANONYMOUS_SCOPE, query=EventQuery()) == len(public)
    assert await count_events(db=db, scope=ADMIN_SCOPE, query=EventQuery()) == len(rows)
    scoped = ReadScope(workspace_ids=frozenset({"w2"}))
    assert await count_events(db=db, scope=scoped, query=EventQuery()) == len(rows)
    found = await get_events(db=db, scope=ANONYMOUS_SCOPE, ids=["e00", "e01", "nope"])
    assert set(found) == {"e01"}
    assert found["e01"]["data"] == {"n": 1}
    assert found["e01"]["created_at"].tzinfo is not None
    # e05 is private; its children (e20..e23) must not match a parent filter anonymously.
    query = EventQuery(filter=Related("parent", Compare("id", "eq", "e05")))
    assert await count_events(db=db, scope=ANONYMOUS_SCOPE, query=query) == 0
    assert await count_events(db=db, scope=ADMIN_SCOPE, query=query) == 4
    narrowed = await list_events(
        db=db,
        scope=ANONYMOUS_SCOPE,
        query=EventQuery(ids=("e00", "e01", "e02")),
        page=PageRequest(),
        max_page_size=MAX,
    )
    assert {r["id"] for r in narrowed.rows} == {"e01", "e02"}


async def test_related_pages_per_key(db: Database) -> None:
    rows = await seed(db)
    keys = ["e01", "e02", "e05", "e29", "missing"]
    order = (OrderKey.parse("id", "asc"),)
    query = EventQuery(order=order)
    pages = await list_related_events(
        db=db,
        scope=ANONYMOUS_SCOPE,
        group_field="parent_id",
        keys=keys,
        query=query,
        page=PageRequest(first=2),
        max_page_size=MAX,
    )
    counts = await count_related_events(
        db=db, scope=ANONYMOUS_SCOPE, group_field="parent_id", keys=keys, query=query
    )
    assert set(pages) == set(keys)
    for key in keys:
        children = sorted(
            r["id"] for r in rows if r["parent_id"] == key and r["channel_id"] == "pub"
        )
        assert [r["id"] for r in pages[key].rows] == children[:2]
        assert pages[key].has_next_page == (len(children) > 2)
        assert not pages[key].has_previous_page
        assert counts[key] == len(children)
    # Continue one group from its cursor.
    more = await list_related_events(
        db=db,
        scope=ANONYMOUS_SCOPE,
        group_field="parent_id",
        keys=["e01"],
        query=query,
        page=PageRequest(first=2, after=pages["e01"].end_cursor),
        max_page_size=MAX,
    )
    assert more["e01"].has_previous_page
    channel_pages = await list_related_events(
        db=db,
        scope=ADMIN_SCOPE,
        group_field="channel_id",
        keys=["pub", "priv"],
        query=EventQuery(),
        page=PageRequest(last=3),
        max_page_size=MAX,
    )
    for channel in ("pub", "priv"):
        want = expected([r for r in rows if r["channel_id"] == channel], ())
        assert [r["id"] for r in channel_pages[channel].rows] == want[-3:]
        assert channel_pages[channel].has_previous_page


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_one_statement_per_page_and_per_batch_of_keys(db: Database) -> None:
    rows = await seed(db)
    query = EventQuery(filter=Related("children", Compare("type", "eq", "a"), "none"))
    first = await list_events(
        db=db,
        scope=ANONYMOUS_SCOPE,
        query=query,
        page=PageRequest(first=3),
        max_page_size=MAX,
    )
    with statements(db) as seen:
        await list_events(
            db=db,
            scope=ANONYMOUS_SCOPE,
            query=query,
            page=PageRequest(first=3, after=first.end_cursor),
            max_page_size=MAX,
        )
    assert len(seen) == 1
    for keys in (["e01"], [r["id"] for r in rows]):
        with statements(db) as seen:
            await list_related_events(
                db=db,
                scope=ANONYMOUS_SCOPE,
                group_field="parent_id",
                keys=keys,
                query=EventQuery(),
                page=PageRequest(first=2),
                max_page_size=MAX,
            )
        assert len(seen) == 1


async def test_default_order_is_served_by_the_created_at_index(db: Database, dialect: str) -> None:
    await seed(db)
    with statements(db) as seen:
        await list_events(
            db=db,
            scope=ADMIN_SCOPE,
            query=EventQuery(order=(OrderKey.parse("created_at", "desc_nulls_last"),)),
            page=PageRequest(first=3),
            max_page_size=MAX,
        )
    ((sql, parameters),) = seen
    async with db.read() as conn:
        if dialect == "postgresql":
            # A tiny table would be seq-scanned; forbid that to see whether the index fits.
            await conn.exec_driver_sql("SET enable_seqscan = off")
            result = await conn.exec_driver_sql("EXPLAIN " + sql, parameters)
            plan = "\n".join(r[0] for r in result)
            assert "events_created_at_id_idx" in plan, plan
            assert "Sort Key: events.created_at" not in plan, plan
        else:
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
            plan = "\n".join(str(r[-1]) for r in result)
            assert "events_created_at_id_idx" in plan, plan
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan.split("SCAN one")[0], plan


ORDER_FIELDS = (
    "created_at",
    "id",
    "type",
    "channel_id",
    "workspace_id",
    "subject_id",
    "user_id",
    "parent_id",
    "publisher_id",
)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("field", ORDER_FIELDS)
async def test_every_order_is_served_by_an_index(
    db: Database, dialect: str, field: str, direction: str
) -> None:
    """Default placements on every sortable column need no sort step (SPEC: indexes for
    every supported order), whatever the page position."""
    await seed(db)
    with statements(db) as seen:
        await list_events(
            db=db,
            scope=ADMIN_SCOPE,
            query=EventQuery(order=(OrderKey.parse(field, direction),)),
            page=PageRequest(first=3),
            max_page_size=MAX,
        )
    ((sql, parameters),) = seen
    async with db.read() as conn:
        if dialect == "postgresql":
            # Forbid the alternatives a tiny table would prefer, to see whether an index fits.
            await conn.exec_driver_sql("SET enable_seqscan = off")
            await conn.exec_driver_sql("SET enable_sort = off")
            result = await conn.exec_driver_sql("EXPLAIN " + sql, parameters)
            plan = "\n".join(r[0] for r in result)
            assert "Sort" not in plan, plan
        else:
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)
            plan = "\n".join(str(r[-1]) for r in result)
            assert "USE TEMP B-TREE" not in plan, plan


async def test_page_statements_are_built_once_per_shape(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later cursor pages reuse one statement with new parameters (that it reads the right
    rows is what the paging tests above check); NULL cursor values are another shape."""
    await seed(db)
    builds: list[bool] = []
    build = event_statements._build

    def counted(*args: Any) -> Any:
        builds.append(True)
        return build(*args)

    monkeypatch.setattr(event_statements, "_build", counted)

    async def pages(order: tuple[OrderKey, ...]) -> list[int]:
        counts, after = [], None
        for _ in range(5):
            page = await list_events(
                db=db,
                scope=ReadScope(channel_ids=frozenset({"c-built-once"})),
                query=EventQuery(order=order),
                page=PageRequest(first=4, after=after),
                max_page_size=MAX,
            )
            counts.append(len(builds))
            after = page.end_cursor
        return counts

    assert await pages(()) == [1, 2, 2, 2, 2]
    # type asc (nulls last): non-NULL cursors share one shape, a NULL one is another
    assert (await pages((OrderKey.parse("type", "asc"),)))[-1] <= 5
