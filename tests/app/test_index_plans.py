"""PostgreSQL serves the non-default NULL placements and the substring filters on ``type``
from indexes (docs/indexes.md), shown with EXPLAIN on a table large enough that a
sequential scan and sort would be chosen otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.events.read import EventQuery, PageRequest, list_events
from db.database import Database
from db.query.ast import Compare, OrderKey
from db.query.scope import ADMIN_SCOPE
from tests.app.test_read_events import statements
from tests.db.rows import insert_channel, insert_workspaces

ROWS = 20_000
# Only userId's opposite placement is index-served (docs/indexes.md); the others sort.
NULLABLE = ("type", "subject_id", "user_id", "parent_id", "publisher_id")


@pytest.fixture
async def big(db: Database, dialect: str) -> Database:
    if dialect != "postgresql":
        pytest.skip("PostgreSQL indexes")
    await insert_workspaces(db, "w")
    await insert_channel(db, "c", "w")
    async with db.transaction() as conn:
        # md5 types: a substring or suffix matches a handful of rows; a third of the
        # nullable columns are NULL.
        await conn.execute(
            text(
                "INSERT INTO events (id, seq, type, channel_id, workspace_id, subject_id,"
                " user_id, parent_id, publisher_id, data, created_at)"
                " SELECT lpad(i::text, 26, '0'), i, md5(i::text), 'c', 'w',"
                " CASE WHEN i % 3 = 0 THEN NULL ELSE 's' || (i % 997) END,"
                " CASE WHEN i % 3 = 1 THEN NULL ELSE 'u' || (i % 991) END,"
                " CASE WHEN i % 3 = 2 THEN NULL ELSE lpad((i / 2)::text, 26, '0') END,"
                " CASE WHEN i % 3 = 0 THEN NULL ELSE 'p' || (i % 7) END,"
                " '{}'::jsonb, now() - i * interval '1 second'"
                " FROM generate_series(1, :rows) AS i"
            ),
            {"rows": ROWS},
        )
    async with db.read() as conn:
        await conn.execute(text("ANALYZE events"))
    return db


async def _plan(db: Database, query: EventQuery) -> str:
    with statements(db) as seen:
        await list_events(
            db=db, scope=ADMIN_SCOPE, query=query, page=PageRequest(first=10), max_page_size=100
        )
    ((sql, parameters),) = seen
    async with db.read() as conn:
        result = await conn.exec_driver_sql("EXPLAIN " + sql, parameters)
        return "\n".join(r[0] for r in result)


async def test_opposite_null_placements_are_served_by_indexes(big: Database) -> None:
    for placement in ("asc_nulls_first", "desc_nulls_last"):
        plan = await _plan(big, EventQuery(order=(OrderKey.parse("user_id", placement),)))
        assert "events_user_id_nulls_first_id_idx" in plan, plan
        assert "Sort" not in plan, plan


async def test_other_opposite_placements_sort_without_an_index_of_their_own(
    big: Database,
) -> None:
    async with big.read() as conn:
        result = await conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")
        )
        indexes = {row[0] for row in result}
    assert {name for name in indexes if "nulls_first" in name} == {
        "events_user_id_nulls_first_id_idx"
    }
    for field in (f for f in NULLABLE if f != "user_id"):
        plan = await _plan(big, EventQuery(order=(OrderKey.parse(field, "asc_nulls_first"),)))
        assert "Sort" in plan, plan


async def test_substring_filters_on_type_use_a_trigram_index(big: Database) -> None:
    for op, value, index in (
        ("contains", "abc1", "events_type_trgm_idx"),
        ("endsWith", "5e0", "events_type_trgm_idx"),
        ("like", "%d4a_f1%", "events_type_trgm_idx"),
        ("ilike", "%ABC1%", "events_type_lower_trgm_idx"),
    ):
        plan = await _plan(big, EventQuery(filter=Compare("type", op, value)))  # type: ignore[arg-type]
        assert index in plan, plan
