"""Workspace and channel management: slugs, uniqueness, references, schemas, admin only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.principal import ADMIN, ANONYMOUS
from app.channels.schemas import validate_data, validator_for
from app.channels.service import (
    create_channel,
    delete_channel,
    find_channel,
    get_channel,
    update_channel,
)
from app.errors import BadInput, Conflict, Forbidden, NotFound, Unauthenticated
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from app.workspaces.service import create_workspace, get_workspace, slugify
from db.database import Database
from db.tables import events_table
from tests.app.conftest import make_channel, make_principal, make_workspace


async def test_workspace_ids(db: Database) -> None:
    first = await create_workspace(db=db, principal=ADMIN, id=None, name="My Shop!")
    assert first["id"] == "my-shop"
    assert first["name"] == "My Shop!"
    second = await create_workspace(db=db, principal=ADMIN, id=None, name="my shop")
    assert second["id"].startswith("my-shop-")
    assert second["id"] != first["id"]
    with pytest.raises(Conflict) as caught:
        await create_workspace(db=db, principal=ADMIN, id="my-shop", name="again")
    assert caught.value.path == "input.id"
    for bad in ("Upper", "-dash", "", "a" * 65, "sp ace"):
        with pytest.raises(BadInput):
            await create_workspace(db=db, principal=ADMIN, id=bad, name="x")
    with pytest.raises(BadInput):
        await create_workspace(db=db, principal=ADMIN, id="ok", name=" ")
    assert (await get_workspace(db=db, principal=ADMIN, id="my-shop"))["name"] == "My Shop!"
    with pytest.raises(NotFound):
        await get_workspace(db=db, principal=ADMIN, id="missing")
    assert slugify("!!!") == "ws"


async def test_management_requires_admin(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    publisher = await make_principal(db, settings, workspace_ids=["ws"])
    with pytest.raises(Unauthenticated):
        await create_workspace(db=db, principal=ANONYMOUS, id=None, name="x")
    with pytest.raises(Forbidden):
        await create_workspace(db=db, principal=publisher, id=None, name="x")
    with pytest.raises(Forbidden):
        await create_channel(db=db, principal=publisher, id="c", name="c", workspace_id="ws")
    with pytest.raises(Forbidden):
        await update_channel(db=db, principal=publisher, id="c", name="d")
    with pytest.raises(Forbidden):
        await delete_channel(db=db, principal=publisher, id="c")
    with pytest.raises(Forbidden):
        await get_channel(db=db, principal=publisher, id="c")


async def test_channel_create_rules(db: Database) -> None:
    await make_workspace(db, "ws")
    row = await create_channel(
        db=db,
        principal=ADMIN,
        id="orders",
        name="Orders",
        workspace_id="ws",
        private=True,
        strict_types=True,
        schemas={"placed": {"type": "object"}},
    )
    assert row["private"] is True
    assert row["strict_types"] is True
    stored = await get_channel(db=db, principal=ADMIN, id="orders")
    assert stored["schemas"] == {"placed": {"type": "object"}}
    assert stored["workspace_id"] == "ws"
    assert stored["created_at"] is not None
    with pytest.raises(Conflict):
        await create_channel(db=db, principal=ADMIN, id="orders", name="x", workspace_id="ws")
    with pytest.raises(BadInput) as caught:
        await create_channel(db=db, principal=ADMIN, id="c2", name="x", workspace_id="nope")
    assert caught.value.path == "input.workspaceId"
    with pytest.raises(BadInput) as caught:
        await create_channel(
            db=db,
            principal=ADMIN,
            id="c3",
            name="x",
            workspace_id="ws",
            schemas={"ok": {"type": "object"}, "broken": {"type": "no-such-type"}},
        )
    assert caught.value.path == "input.schemas.broken"
    assert "broken" in caught.value.message
    with pytest.raises(BadInput, match="not allowed"):
        await create_channel(
            db=db,
            principal=ADMIN,
            id="c4",
            name="x",
            workspace_id="ws",
            schemas={"remote": {"$ref": "http://127.0.0.1:1/schema.json"}},
        )
    assert await find_channel(db=db, id="c3") is None


async def test_update_and_delete_channel(db: Database, settings: Settings) -> None:
    await make_workspace(db, "ws")
    await make_channel(db, "orders")
    updated = await update_channel(
        db=db,
        principal=ADMIN,
        id="orders",
        name="Renamed",
        private=True,
        strict_types=True,
        schemas={"a": {"type": "integer"}},
    )
    assert updated["name"] == "Renamed"
    assert updated["private"] is True
    assert updated["schemas"] == {"a": {"type": "integer"}}
    unchanged = await update_channel(db=db, principal=ADMIN, id="orders")
    assert unchanged["name"] == "Renamed"
    with pytest.raises(BadInput):
        await update_channel(db=db, principal=ADMIN, id="orders", schemas={"a": {"type": 5}})
    with pytest.raises(NotFound):
        await update_channel(db=db, principal=ADMIN, id="missing", name="x")
    await publish_events(
        db=db,
        settings=settings,
        principal=ADMIN,
        channel_id="orders",
        drafts=[EventDraft(type="a", data=1), EventDraft(type="a", data=2)],
        delivery=Delivery(),
    )
    assert await delete_channel(db=db, principal=ADMIN, id="orders") == "orders"
    async with db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(events_table))).scalar()
    assert count == 0
    with pytest.raises(NotFound):
        await delete_channel(db=db, principal=ADMIN, id="orders")


def test_validator_cache_follows_the_schema() -> None:
    first = validator_for("c", "t", {"type": "integer"})
    assert validator_for("c", "t", {"type": "integer"}) is first
    assert validator_for("c", "t", {"type": "string"}) is not first
    validate_data("c", "t", {"type": "string"}, "ok", path="data")
    with pytest.raises(BadInput) as caught:
        validate_data("c", "t", {"type": "string"}, 5, path="events[0].data")
    assert caught.value.path == "events[0].data"
