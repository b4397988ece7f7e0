"""delete_event: who may delete what, and what a delete leaves behind."""

from __future__ import annotations

import pytest

from app.auth.principal import ADMIN, ANONYMOUS
from app.errors import Forbidden, NotFound, Unauthenticated
from app.events.delete import delete_event
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from db.database import Database
from db.query.scope import ADMIN_SCOPE
from db.repositories.event_writes import get_readable_event
from tests.app.conftest import make_channel, make_principal, make_workspace


async def exists(db: Database, event_id: str) -> bool:
    async with db.read() as conn:
        return await get_readable_event(conn, scope=ADMIN_SCOPE, event_id=event_id) is not None


async def test_publisher_rules(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "orders", private=True)
    await make_channel(db, "other")
    alice = await make_principal(db, settings, channel_ids=["orders"], publisher_id="alice")
    bob = await make_principal(db, settings, channel_ids=["orders"], publisher_id="bob")
    reader = await make_principal(db, settings, kind="subscribe", channel_ids=["orders"])
    outsider = await make_principal(db, settings, channel_ids=["other"], publisher_id="alice")
    (event,) = await publish_events(
        db=db,
        settings=settings,
        principal=alice,
        channel_id="orders",
        drafts=[EventDraft(data=1)],
        delivery=Delivery(),
    )
    event_id = event["id"]
    with pytest.raises(Unauthenticated):
        await delete_event(db=db, principal=ANONYMOUS, event_id=event_id)
    with pytest.raises(Forbidden):
        await delete_event(db=db, principal=bob, event_id=event_id)
    with pytest.raises(Forbidden):
        await delete_event(db=db, principal=reader, event_id=event_id)
    # The private event is unreadable to a token scoped elsewhere: 404, not 403.
    with pytest.raises(NotFound):
        await delete_event(db=db, principal=outsider, event_id=event_id)
    with pytest.raises(NotFound):
        await delete_event(db=db, principal=alice, event_id=event_id, channel_id="other")
    assert await exists(db, event_id)
    assert await delete_event(db=db, principal=alice, event_id=event_id) == event_id
    assert not await exists(db, event_id)
    with pytest.raises(NotFound):
        await delete_event(db=db, principal=ADMIN, event_id=event_id)


async def test_children_keep_their_parent_id(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "orders")
    (parent,) = await publish_events(
        db=db,
        settings=settings,
        principal=ADMIN,
        channel_id="orders",
        drafts=[EventDraft(data=1)],
        delivery=Delivery(),
    )
    (child,) = await publish_events(
        db=db,
        settings=settings,
        principal=ADMIN,
        channel_id="orders",
        drafts=[EventDraft(data=2, parent_id=parent["id"])],
        delivery=Delivery(),
    )
    await delete_event(db=db, principal=ADMIN, event_id=parent["id"], channel_id="orders")
    async with db.read() as conn:
        row = await get_readable_event(conn, scope=ADMIN_SCOPE, event_id=child["id"])
    assert row is not None
    assert row["parent_id"] == parent["id"]
