"""Retention: purge_before in batches, and the periodic task the app starts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from asgi_lifespan import LifespanManager

from app.events.archive import import_events
from app.events.retention import purge_before
from app.main import create_app
from app.settings import Settings
from db.database import Database
from tests.fixtures.app import ADMIN_SECRET


def _line(n: int, created: datetime) -> bytes:
    return orjson.dumps(
        {
            "id": f"01J{n:023d}",
            "type": "t",
            "channelId": "c",
            "workspaceId": "w",
            "data": {"n": n},
            "createdAt": created.isoformat(),
        }
    )


async def _store(url: str, old: int, new: int) -> None:
    now = datetime.now(UTC)
    lines = [_line(i, now - timedelta(days=10, minutes=i)) for i in range(old)]
    lines += [_line(old + i, now - timedelta(minutes=i)) for i in range(new)]
    db = Database(url)
    try:
        await import_events(db=db, lines=lines)
    finally:
        await db.dispose()


async def _count(url: str) -> int:
    settings = Settings(database_url=url, admin_token=ADMIN_SECRET)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            r = await http.get(
                "/api/events?limit=1", headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
            )
            total: int = r.json()["pageInfo"]["total"]
            return total


async def test_purge_before_deletes_in_batches(database_url: str) -> None:
    await _store(database_url, old=25, new=3)
    db = Database(database_url)
    try:
        cutoff = datetime.now(UTC) - timedelta(days=1)
        assert await purge_before(db=db, before=cutoff, batch_size=4) == 25
        assert await purge_before(db=db, before=cutoff, batch_size=4) == 0
    finally:
        await db.dispose()
    assert await _count(database_url) == 3


async def test_app_runs_retention_when_configured(database_url: str) -> None:
    await _store(database_url, old=5, new=2)
    settings = Settings(database_url=database_url, admin_token=ADMIN_SECRET, retention_days=3)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        headers = {"Authorization": f"Bearer {ADMIN_SECRET}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            total = -1
            for _ in range(100):
                total = (await http.get("/api/events", headers=headers)).json()["pageInfo"]["total"]
                if total == 2:
                    break
                await asyncio.sleep(0.05)
            assert total == 2
