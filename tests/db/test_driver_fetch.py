"""Page statements sent through asyncpg itself (``db/repositories/driver_fetch.py``) return
exactly what SQLAlchemy's execute returns, for every page shape the engine builds; the
shapes the shortcut cannot send (an expanding IN list of a token's channels) take
SQLAlchemy's path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.events.read import EventPage, EventQuery, PageRequest, list_events
from db.database import Database
from db.query.ast import And, Compare, Filter, Not, Or, OrderKey, Related
from db.query.scope import ADMIN_SCOPE, ANONYMOUS_SCOPE, ReadScope
from db.repositories import driver_fetch, stream
from db.repositories.event_statements import related_columns
from tests.app.test_read_events import seed
from tests.db.test_read_retry import _backend
from tests.fixtures.databases import terminate_backend

MAX = 50


@pytest.fixture
async def db(database_url: str, dialect: str) -> AsyncIterator[Database]:
    if dialect != "postgresql":
        pytest.skip("the driver fetch is PostgreSQL's")
    database = Database(database_url)
    try:
        await seed(database)
        yield database
    finally:
        await database.dispose()


@contextmanager
def through_sqlalchemy() -> Iterator[None]:
    compiled = driver_fetch._compiled
    setattr(driver_fetch, "_compiled", lambda _stmt, _dialect: None)  # noqa: B010
    try:
        yield
    finally:
        setattr(driver_fetch, "_compiled", compiled)  # noqa: B010


def _typed(page: EventPage) -> Any:
    rows = [[(key, type(value), value) for key, value in dict(row).items()] for row in page.rows]
    related = {
        relation: {key: dict(target) for key, target in targets.items()}
        for relation, targets in page.related.items()
    }
    return rows, list(page.cursors), page.has_next_page, page.has_previous_page, related


async def _both(db: Database, scope: ReadScope, query: EventQuery, request: PageRequest,
                **options: Any) -> tuple[Any, Any]:  # fmt: skip
    driver_fetch._COMPILED.clear()
    fast = await list_events(
        db=db, scope=scope, query=query, page=request, max_page_size=MAX, **options
    )
    with through_sqlalchemy():
        general = await list_events(
            db=db, scope=scope, query=query, page=request, max_page_size=MAX, **options
        )
    return _typed(fast), _typed(general)


FILTERS: list[Filter] = [
    And(()),
    Compare("type", "in", ("a", "c")),
    Or((Compare("type", "in", ("a", "b")), And((Compare("workspace_id", "eq", "w1"),
        Not(Compare("subject_id", "eq", "x")))))),
    Related("parent", Compare("type", "eq", "a")),
    Compare("subject_id", "isNull", True),
]  # fmt: skip
ORDERS = [(), (OrderKey("type", "asc", "first"), OrderKey("id", "desc", "last"))]


@pytest.mark.parametrize("filter_index", range(len(FILTERS)))
@pytest.mark.parametrize("order", ORDERS)
async def test_driver_rows_equal_sqlalchemy_rows(
    db: Database, filter_index: int, order: tuple[OrderKey, ...]
) -> None:
    query = EventQuery(filter=FILTERS[filter_index], order=order)
    first = await list_events(
        db=db, scope=ADMIN_SCOPE, query=query, page=PageRequest(first=4), max_page_size=MAX
    )
    after = first.cursors[-1] if first.rows else None
    requests = [
        PageRequest(first=4),
        PageRequest(first=3, after=after),
        PageRequest(last=2, before=after),
        PageRequest(last=50),
    ]
    related = related_columns({"parent": {"id", "type"}, "channel": {"id", "name"}})
    for request in requests:
        fast, general = await _both(db, ADMIN_SCOPE, query, request)
        assert fast == general, request
        fast, general = await _both(db, ADMIN_SCOPE, query, request, related=related)
        assert fast == general, request
        fast, general = await _both(db, ADMIN_SCOPE, query, request, raw_json=True)
        assert fast == general, request


async def test_the_hot_shapes_take_the_driver_and_expanding_lists_do_not(db: Database) -> None:
    await _both(db, ADMIN_SCOPE, EventQuery(), PageRequest(first=5))
    assert [compiled is not None for _, compiled in driver_fetch._COMPILED.values()] == [True]
    token = ReadScope(channel_ids=frozenset({"pub", "priv"}))
    fast, general = await _both(db, token, EventQuery(), PageRequest(first=5))
    assert fast == general
    assert [compiled is not None for _, compiled in driver_fetch._COMPILED.values()] == [False]
    fast, general = await _both(db, ANONYMOUS_SCOPE, EventQuery(), PageRequest(first=5))
    assert fast == general


async def test_a_page_on_a_connection_that_died_unseen_is_run_again(db: Database) -> None:
    first = await db.run_read(_backend)
    terminate_backend(first)  # blocking on purpose: only the failed statement tells
    page = await list_events(
        db=db, scope=ADMIN_SCOPE, query=EventQuery(), page=PageRequest(first=5), max_page_size=MAX
    )
    assert len(page.rows) == 5
    assert await db.run_read(_backend) != first


async def test_a_page_read_with_its_total_in_one_snapshot_takes_sqlalchemy(db: Database) -> None:
    # The snapshot's BEGIN is sent by SQLAlchemy with its first statement: a page fetched
    # past it would be read outside the snapshot its total is counted in.
    request = PageRequest(first=5)
    fast, general = await _both(db, ADMIN_SCOPE, EventQuery(), request, with_total=True)
    assert fast == general
    assert not driver_fetch._COMPILED


async def test_the_realtime_tail_through_the_driver_equals_sqlalchemy(db: Database) -> None:
    def typed(rows: list[dict[str, Any]]) -> Any:
        return [[(key, type(value), value) for key, value in row.items()] for row in rows]

    driver_fetch._COMPILED.clear()
    async with db.read() as conn:
        fast = await stream.tail(conn, after_seq=2, limit=5)
        assert [compiled is not None for _, compiled in driver_fetch._COMPILED.values()] == [True]
        with through_sqlalchemy():
            general = await stream.tail(conn, after_seq=2, limit=5)
    assert len(fast) == 5
    assert typed(fast) == typed(general)
