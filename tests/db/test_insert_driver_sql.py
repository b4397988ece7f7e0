"""The publish insert sent as its pre-compiled text (``event_writes._driver_sql``) stores
exactly what SQLAlchemy's execute of the same statement stores, in every shape of the
statement (channel version checked or not, outbox row or not, notice or not, one row or
several); the statement of one row stores what the statement of arrays stores for it;
and no statement of publishing makes asyncpg look a type up on a new connection."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from db.database import Database, WriteConn
from db.repositories import channels as channel_repo
from db.repositories import event_writes
from db.repositories import webhook_outbox as outbox_repo
from db.repositories.event_writes import InsertPart, OutboxRow
from tests.db.rows import insert_channel, insert_workspaces
from tests.webhooks.conftest import store_webhook

SHAPES = list(itertools.product((False, True), repeat=4))
_STORED = (
    "SELECT e.id, e.seq, e.type, e.channel_id, e.workspace_id, e.subject_id, e.user_id,"
    " e.parent_id, e.publisher_id, e.publisher_name, e.data, e.meta, e.created_at"
    " FROM events e WHERE e.seq > :after ORDER BY e.seq"
)
_OUTBOX = "SELECT kind, entries FROM webhook_outbox WHERE id > :after ORDER BY id"


@pytest.fixture
async def db(database_url: str, dialect: str) -> AsyncIterator[Database]:
    if dialect != "postgresql":
        pytest.skip("the one-statement insert is PostgreSQL's")
    database = Database(database_url)
    try:
        await insert_workspaces(database, "w1")
        await insert_channel(database, "c1", "w1")
        yield database
    finally:
        await database.dispose()


def _parts(checked: bool, outbox: bool, single: bool, version: str) -> list[InsertPart]:
    def rows(n: int) -> list[dict[str, Any]]:
        return event_writes.prepare(
            [
                {"type": f"t{i}", "channel_id": "c1", "workspace_id": "w1",
                 "subject_id": "s" if i else None, "user_id": None, "parent_id": None,
                 "publisher_id": "p", "publisher_name": "P", "data": {"i": i, "x": [1.5, None]},
                 "meta": {"m": i} if i else None}
                for i in range(n)
            ]
        )  # fmt: skip

    box = OutboxRow("published", '[["h1", "u1"]]') if outbox else None
    if single:  # the second row of ``rows(2)``: every nullable column has a value
        return [InsertPart(rows(2)[1:], box, version if checked else None)]
    return [
        InsertPart(rows(2), box, version if checked else None),
        InsertPart(rows(1), None, version if checked else None),
    ]


async def _store(
    db: Database, shape: tuple[bool, bool, bool, bool], *, general: bool, arrays: bool = False
) -> Any:
    """Store the shape's parts: by SQLAlchemy's execute (``general``; with ``arrays``, by
    the statement of arrays even for one row), else by ``insert_parts``."""
    checked, outbox, notice, single = shape

    async def work(conn: WriteConn) -> Any:
        found = await channel_repo.get_channel_versioned(conn, "c1")
        assert found is not None
        after_seq = await conn.scalar(text("SELECT coalesce(max(seq), 0) FROM events"))
        after_box = await conn.scalar(text("SELECT coalesce(max(id), 0) FROM webhook_outbox"))
        parts = _parts(checked, outbox, single, found[1])
        note = ("eg_test_driver_sql", "hello") if notice else None
        if general:
            single_statement = single and not arrays
            params = event_writes._part_params(parts, single=single_statement)
            if note is not None:
                params["notice_channel"], params["notice_payload"] = note
            statement = event_writes._INSERT_PG[(checked, outbox, notice, single_statement)]
            await conn.execute(statement, params)
        else:
            await event_writes.insert_parts(conn, parts, notice=note)
        stored = (await conn.execute(text(_STORED), {"after": after_seq})).mappings().all()
        boxes = (await conn.execute(text(_OUTBOX), {"after": after_box})).mappings().all()
        rows = [row for part in parts for row in part.rows]
        prepared = None if general else [(row["seq"], row["created_at"]) for row in rows]
        return [dict(r) for r in stored], [dict(b) for b in boxes], after_seq, prepared

    return await db.run_write(work)


def _relative(stored: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    return [{**row, "id": None, "seq": row["seq"] - after, "created_at": None} for row in stored]


def _boxes(boxes: list[dict[str, Any]], after: int) -> list[Any]:
    out = []
    for box in boxes:
        entries = json.loads(box["entries"])
        out.append((box["kind"], entries["hooks"], [seq - after for _, seq in entries["events"]]))
    return out


def _id(shape: tuple[bool, bool, bool, bool]) -> str:
    checked, outbox, notice, single = shape
    return f"checked{checked:d}-outbox{outbox:d}-notice{notice:d}-single{single:d}"


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
async def test_driver_sql_stores_what_sqlalchemy_stores(
    db: Database, shape: tuple[bool, bool, bool, bool]
) -> None:
    general, general_boxes, general_after, _ = await _store(db, shape, general=True)
    driver, driver_boxes, driver_after, prepared = await _store(db, shape, general=False)
    assert len(driver) == (1 if shape[3] else 3)
    # the statement's positions set on the rows, their prepared times stored as they were
    assert prepared == [(row["seq"], row["created_at"]) for row in driver]
    assert _relative(driver, driver_after) == _relative(general, general_after)
    assert _boxes(driver_boxes, driver_after) == _boxes(general_boxes, general_after)
    assert len(driver_boxes) == (1 if shape[1] else 0)


@pytest.mark.parametrize("shape", [s for s in SHAPES if s[3]], ids=_id)
async def test_one_row_is_stored_as_the_statement_of_arrays_stores_it(
    db: Database, shape: tuple[bool, bool, bool, bool]
) -> None:
    arrays, arrays_boxes, arrays_after, _ = await _store(db, shape, general=True, arrays=True)
    single, single_boxes, single_after, _ = await _store(db, shape, general=False)
    assert len(single) == 1
    assert _relative(single, single_after) == _relative(arrays, arrays_after)
    assert _boxes(single_boxes, single_after) == _boxes(arrays_boxes, arrays_after)


async def test_publishing_on_new_connections_looks_up_no_type(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg has built-in codecs for text[] but for no other array type: it looks one up
    with a catalog query (about 5 ms of server time) the first time each connection meets
    it, in the request that does. Publishing binds its arrays as text[]."""
    looked_up: list[list[int]] = []
    original = asyncpg.connection.Connection._introspect_types

    async def spy(self: asyncpg.Connection, typeoids: Any, *args: Any) -> Any:
        looked_up.append(sorted(typeoids))
        return await original(self, typeoids, *args)

    monkeypatch.setattr(asyncpg.connection.Connection, "_introspect_types", spy)
    for shape in SHAPES:
        fresh = Database(database_url)  # its connections have met no type yet
        try:
            await _store(fresh, shape, general=False)
        finally:
            await fresh.dispose()
    fresh = Database(database_url)
    try:
        async with fresh.transaction() as conn:
            now = datetime.now(UTC)
            await store_webhook(conn, "H" * 26, now)
            await outbox_repo.stage_deliveries(
                conn, ids=["msg_1"], webhook_ids=["H" * 26], event_ids=["e1"],
                event_seqs=[7], kind="event.published", now=now,
            )  # fmt: skip
            staged = await conn.scalar(
                text("SELECT event_seq FROM webhook_deliveries WHERE id = 'msg_1'")
            )
        assert staged == 7
    finally:
        await fresh.dispose()
    assert looked_up == []
