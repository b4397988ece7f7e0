"""publish_events: every validation rule, atomic batches and commit-ordered positions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from app.auth.principal import ADMIN, ANONYMOUS
from app.errors import BadInput, Forbidden, NotFound, PayloadTooLarge, Unauthenticated
from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from db.database import Database
from db.tables import events_table
from tests.app.conftest import make_channel, make_principal, make_workspace


async def stored_events(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        result = await conn.execute(select(events_table).order_by(events_table.c.seq))
        return [dict(row) for row in result.mappings()]


async def event_count(db: Database) -> int:
    async with db.read() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(events_table))).scalar_one()
        )


@pytest.fixture
async def channel(db: Database) -> str:
    await make_workspace(db, "ws")
    return await make_channel(db, "orders")


async def publish(db: Database, settings: Settings, drafts: list[EventDraft], **kw: Any) -> Any:
    kw.setdefault("principal", ADMIN)
    kw.setdefault("channel_id", "orders")
    kw.setdefault("delivery", Delivery())
    return await publish_events(db=db, settings=settings, drafts=drafts, **kw)


async def test_publish_stores_events_with_server_fields(
    db: Database, settings: Settings, channel: str
) -> None:
    principal = await make_principal(db, settings, channel_ids=[channel], publisher_id="svc")
    drafts = [
        EventDraft(type="a", data={"n": 1}, meta={"m": True}, subject_id="s", user_id="u"),
        EventDraft(type="b", data=[1, 2]),
    ]
    rows = await publish(db, settings, drafts, principal=principal)
    assert [r["type"] for r in rows] == ["a", "b"]
    assert all(len(r["id"]) == 26 for r in rows)
    assert rows[0]["id"] < rows[1]["id"]
    assert rows[1]["seq"] == rows[0]["seq"] + 1
    assert rows[0]["workspace_id"] == "ws"
    assert rows[0]["publisher_id"] == "svc"
    assert rows[0]["publisher_name"] == "Svc"
    assert rows[0]["created_at"].microsecond % 1000 == 0
    stored = await stored_events(db)
    assert [s["id"] for s in stored] == [r["id"] for r in rows]
    assert stored[0]["data"] == {"n": 1}
    assert stored[0]["meta"] == {"m": True}
    assert stored[0]["subject_id"] == "s"
    assert stored[0]["user_id"] == "u"
    assert stored[0]["created_at"] == rows[0]["created_at"]


async def test_admin_events_have_no_publisher(
    db: Database, settings: Settings, channel: str
) -> None:
    (row,) = await publish(db, settings, [EventDraft(data=1)])
    assert row["publisher_id"] is None
    assert row["publisher_name"] is None


async def test_anonymous_is_unauthenticated(db: Database, settings: Settings, channel: str) -> None:
    with pytest.raises(Unauthenticated):
        await publish(db, settings, [EventDraft(data=1)], principal=ANONYMOUS)


async def test_unknown_channel_is_not_found(db: Database, settings: Settings, channel: str) -> None:
    with pytest.raises(NotFound):
        await publish(db, settings, [EventDraft(data=1)], channel_id="nope")


async def test_token_scope_decides_publishing(
    db: Database, settings: Settings, channel: str
) -> None:
    await make_workspace(db, "other")
    await make_channel(db, "elsewhere", workspace_id="other")
    by_channel = await make_principal(db, settings, channel_ids=["elsewhere"])
    by_workspace = await make_principal(db, settings, workspace_ids=["ws"])
    subscriber = await make_principal(db, settings, kind="subscribe", channel_ids=[channel])
    with pytest.raises(Forbidden):
        await publish(db, settings, [EventDraft(data=1)], principal=by_channel)
    with pytest.raises(Forbidden):
        await publish(db, settings, [EventDraft(data=1)], principal=subscriber)
    await publish(db, settings, [EventDraft(data=1)], principal=by_workspace)
    await publish(db, settings, [EventDraft(data=1)], principal=by_channel, channel_id="elsewhere")
    assert await event_count(db) == 2


async def test_empty_and_oversized_batches(db: Database, settings: Settings, channel: str) -> None:
    with pytest.raises(BadInput):
        await publish(db, settings, [])
    small = settings.model_copy(update={"max_batch": 2})
    with pytest.raises(PayloadTooLarge):
        await publish(db, small, [EventDraft(data=i) for i in range(3)])
    assert await event_count(db) == 0


@pytest.mark.parametrize(
    ("draft", "error", "path"),
    [
        (EventDraft(type="t"), BadInput, "events[1].data"),
        (EventDraft(type="x" * 201, data=1), BadInput, "events[1].type"),
        (EventDraft(data=1, meta={"k": "x" * 17000}), PayloadTooLarge, "events[1].meta"),
        (EventDraft(data={"k": "x" * 70000}), PayloadTooLarge, "events[1].data"),
        (EventDraft(data={"big": 2**70}), BadInput, "events[1].data.big"),
        (
            EventDraft(data=1, parent_id="01JUNKNOWNPARENT0000000000"),
            BadInput,
            "events[1].parentId",
        ),
    ],
)
async def test_one_bad_event_stores_none(
    db: Database,
    settings: Settings,
    channel: str,
    draft: EventDraft,
    error: type[Exception],
    path: str,
) -> None:
    drafts = [EventDraft(data=0), draft, EventDraft(data=2)]
    with pytest.raises(error) as caught:
        await publish(db, settings, drafts)
    assert getattr(caught.value, "path", None) == path
    assert await event_count(db) == 0


async def test_data_size_limit_counts_compact_utf8(
    db: Database, settings: Settings, channel: str
) -> None:
    tight = settings.model_copy(update={"max_event_bytes": 12})
    await publish(db, tight, [EventDraft(data={"a": "éé"})])  # {"a":"éé"} is 12 bytes
    with pytest.raises(PayloadTooLarge):
        await publish(db, tight, [EventDraft(data={"a": "ééé"})])


async def test_single_event_paths(db: Database, settings: Settings, channel: str) -> None:
    with pytest.raises(BadInput) as caught:
        await publish(db, settings, [EventDraft()], path_prefix="event", single=True)
    assert caught.value.path == "event.data"
    with pytest.raises(BadInput) as caught:
        await publish(db, settings, [EventDraft()], path_prefix="", single=True)
    assert caught.value.path == "data"


async def test_strict_types(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    schema = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
    await make_channel(db, "orders", strict_types=True, schemas={"order.placed": schema})
    await publish(db, settings, [EventDraft(type="order.placed", data={"total": 3})])
    with pytest.raises(BadInput) as caught:
        await publish(db, settings, [EventDraft(type="other", data={"total": 3})])
    assert caught.value.path == "events[0].type"
    with pytest.raises(BadInput) as caught:
        await publish(db, settings, [EventDraft(data={"total": 3})])
    assert caught.value.path == "events[0].type"
    with pytest.raises(BadInput) as caught:
        await publish(db, settings, [EventDraft(type="order.placed", data={"total": "x"})])
    assert caught.value.path == "events[0].data"
    assert "total" in caught.value.message
    assert await event_count(db) == 1


async def test_parent_must_be_readable(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "public")
    await make_channel(db, "secret", private=True)
    (hidden,) = await publish(db, settings, [EventDraft(data=1)], channel_id="secret")
    (visible,) = await publish(db, settings, [EventDraft(data=1)], channel_id="public")
    publisher = await make_principal(db, settings, channel_ids=["public"])
    with pytest.raises(BadInput) as caught:
        await publish(
            db,
            settings,
            [EventDraft(data=2, parent_id=hidden["id"])],
            principal=publisher,
            channel_id="public",
        )
    assert caught.value.path == "events[0].parentId"
    (child,) = await publish(
        db,
        settings,
        [EventDraft(data=2, parent_id=visible["id"])],
        principal=publisher,
        channel_id="public",
    )
    assert child["parent_id"] == visible["id"]
    # The admin reads everything, so it may point at the private event.
    await publish(db, settings, [EventDraft(data=3, parent_id=hidden["id"])], channel_id="public")


async def test_hooks_run_in_and_after_the_transaction(
    db: Database, settings: Settings, channel: str
) -> None:
    seen: list[str] = []

    class Recorder:
        async def stage_in_statement(self, conn: Any, channel: Any, rows: Any) -> Staging:
            return Staging.TRANSACTION

        async def stage(self, conn: Any, rows: Sequence[Any], kind: DeliveryKind) -> None:
            seen.append(f"stage:{kind.value}:{len(rows)}")

        async def committed(
            self, rows: Sequence[Any], kind: DeliveryKind, channel: Mapping[str, Any] | None
        ) -> None:
            seen.append(f"committed:{await event_count(db)}")

    delivery = Delivery((Recorder(),))
    await publish(db, settings, [EventDraft(data=1), EventDraft(data=2)], delivery=delivery)
    assert seen == ["stage:event.published:2", "committed:2"]

    class Refuses(Recorder):
        async def stage(self, conn: Any, rows: Sequence[Any], kind: DeliveryKind) -> None:
            raise RuntimeError("outbox refused")

    with pytest.raises(RuntimeError):
        await publish(db, settings, [EventDraft(data=3)], delivery=Delivery((Refuses(),)))
    assert await event_count(db) == 2  # a failing stage rolls the events back


async def test_concurrent_publishers_get_unique_increasing_positions(
    db: Database, settings: Settings, channel: str
) -> None:
    async def publisher(n: int) -> list[int]:
        positions: list[int] = []
        for i in range(8):
            rows = await publish(db, settings, [EventDraft(data=[n, i, j]) for j in range(3)])
            positions.extend(r["seq"] for r in rows)
        return positions

    results = await asyncio.gather(*(publisher(n) for n in range(6)))
    for positions in results:
        assert positions == sorted(positions)
    all_positions = [p for positions in results for p in positions]
    assert len(set(all_positions)) == len(all_positions) == 6 * 8 * 3
    stored = await stored_events(db)
    assert [s["seq"] for s in stored] == list(range(1, 6 * 8 * 3 + 1))
    # Ids are assigned before the position lock is taken (docs/architecture.md): unique,
    # increasing within a batch, but not commit-ordered across transactions.
    assert len({s["id"] for s in stored}) == len(stored)
    for start in range(0, len(stored), 3):
        batch = [s for s in stored if s["data"][:2] == stored[start]["data"][:2]]
        assert [s["id"] for s in batch] == sorted(s["id"] for s in batch)


async def test_batches_larger_than_one_insert_chunk(
    db: Database, settings: Settings, channel: str
) -> None:
    roomy = settings.model_copy(update={"max_batch": 2500})
    rows = await publish(db, roomy, [EventDraft(type="bulk", data={"i": i}) for i in range(2500)])
    assert [r["seq"] for r in rows] == list(range(1, 2501))
    assert await event_count(db) == 2500
