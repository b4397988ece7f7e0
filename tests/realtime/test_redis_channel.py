"""The Redis bus's channel is per database (docs/realtime.md, "The bus"): processes on one
database wake each other, deployments on two databases sharing one Redis never do.

Real Redis and real databases; runs with ``--broadcast redis`` (the CI's Redis stage).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from app.realtime.bus import Bus, create_bus
from app.settings import Settings
from db.database import Database
from tests.fixtures.servers import redis_url


class Process:
    """One process's bus on a database, recording what it hears."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.heard: list[str] = []
        self._new = asyncio.Event()

    def on_message(self, message: str) -> None:
        self.heard.append(message)
        self._new.set()

    async def hears(self, message: str) -> None:
        async with asyncio.timeout(10):
            while message not in self.heard:
                self._new.clear()
                await self._new.wait()


@asynccontextmanager
async def process(stack: AsyncExitStack, url: str) -> AsyncIterator[Process]:
    db = Database(url)
    stack.push_async_callback(db.dispose)
    settings = Settings(database_url=url, broadcast_url=redis_url(), bus_check_seconds=0.5)
    bus = create_bus(settings, db)
    assert bus.name == "redis"
    proc = Process(bus)
    await bus.start(proc.on_message)
    stack.push_async_callback(bus.stop)
    yield proc


async def test_deployments_on_two_databases_do_not_wake_each_other(
    request: pytest.FixtureRequest, database_url: str, second_url: str
) -> None:
    if request.config.getoption("--broadcast") != "redis":
        pytest.skip("needs Redis: run with --broadcast redis")
    async with AsyncExitStack() as stack:
        # Deployment A: two processes on one database; deployment B: two on another (a
        # copy of the same migrated template, as a restored or cloned database would be).
        a1 = await stack.enter_async_context(process(stack, database_url))
        a2 = await stack.enter_async_context(process(stack, database_url))
        b1 = await stack.enter_async_context(process(stack, second_url))
        b2 = await stack.enter_async_context(process(stack, second_url))

        await a1.bus.publish("p a1 1")
        await b1.bus.publish("p b1 1")
        await a1.bus.publish("p a1 2")  # Redis sends it after "p b1 1" to any subscriber
        await b1.bus.publish("p b1 2")
        for proc in (a1, a2):
            await proc.hears("p a1 2")
        for proc in (b1, b2):
            await proc.hears("p b1 2")
        # Each hears its own deployment's messages (and the empty wake-up at connect)
        # and none of the other's.
        assert [m for m in a2.heard if m] == ["p a1 1", "p a1 2"]
        assert [m for m in a1.heard if m] == ["p a1 1", "p a1 2"]
        assert [m for m in b2.heard if m] == ["p b1 1", "p b1 2"]
        assert [m for m in b1.heard if m] == ["p b1 1", "p b1 2"]
