"""``Hub.stop`` ends the hub's tasks even when a wake-up arrives as they are cancelled.

On Python 3.11 ``asyncio.wait_for`` returns the result instead of raising ``CancelledError``
when the awaited thing finished just before the cancel was delivered (gh-86296). The tail
waited for its wake-up that way, so a publish or a bus message arriving during shutdown
made it carry on forever and the app's lifespan shutdown time out (the Redis realtime run,
about once in four). The wake-up is raced against the cancel at each of a few loop
iterations' distance.
"""

from __future__ import annotations

import asyncio

from app.realtime.bus import create_bus
from app.realtime.hub import Hub
from app.settings import Settings
from db.database import Database


async def test_stop_ends_the_tail_when_a_wake_up_races_the_cancel(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        for ticks in range(5):
            hub = Hub(db=db, bus=create_bus(settings, db), settings=settings)
            await hub.start()
            await asyncio.sleep(0.05)  # the tail now waits for a wake-up
            await hub.published([], private=False)  # wakes it
            for _ in range(ticks):
                await asyncio.sleep(0)
            stopping = asyncio.create_task(hub.stop())
            done, _ = await asyncio.wait({stopping}, timeout=5)
            if not done:  # a second cancel, to clean up
                stopping.cancel()
                await asyncio.wait({stopping})
            assert done, f"Hub.stop hung (woken {ticks} loop iterations before the cancel)"
    finally:
        await db.dispose()
