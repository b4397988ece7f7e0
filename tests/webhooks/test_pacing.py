"""While its process is busy publishing, the dispatcher runs a round at most every
``ROUND_SECONDS`` and starts deliveries at ``EVENTGRAPH_WEBHOOK_BUSY_RATE`` per second (a
floor: some go out meanwhile), then sends the backlog at full speed once publishing
pauses."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

import pytest

from app.settings import Settings
from app.webhooks.dispatcher import Dispatcher
from app.webhooks.pacing import ROUND_SECONDS
from db.database import Database
from db.types import to_millis
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, publish, setup_world, webhook_settings
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_window import _world

RATE = 2.0
PUBLISHING_SECONDS = 4.0
PUBLISH_EVERY = 0.005
"""Seconds between publishes: busy (BUSY_SECONDS is 0.25), and fewer events to drain."""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(database_url, webhook_poll_interval=0.05, webhook_busy_rate=RATE)


async def test_publishing_paces_deliveries_and_the_backlog_follows(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[float] = []  # when each dispatcher round began
    tick = Dispatcher._tick

    async def counted(self: Dispatcher) -> None:
        rounds.append(time.monotonic())
        await tick(self)

    monkeypatch.setattr(Dispatcher, "_tick", counted)
    await setup_world(api)
    await create_webhook(api, receiver)
    published: list[str] = []
    started, publishes = time.monotonic(), 0
    while time.monotonic() - started < PUBLISHING_SECONDS:
        published += await publish(api, "market", *({"data": n} for n in range(3)))
        publishes += 1
        await asyncio.sleep(PUBLISH_EVERY)
    elapsed = time.monotonic() - started
    during = len(receiver.received)
    # Each round uses up its tokens, so a pause follows; without it a publish right after
    # a round would run the next one at once.
    busy = [t for t in rounds if t > started + 0.05]
    gaps = [later - earlier for earlier, later in itertools.pairwise(busy)]
    assert gaps, "fewer than two rounds while publishing"
    assert min(gaps) >= 0.9 * ROUND_SECONDS, (gaps, publishes)
    # Unpaced, the dispatcher keeps up with the publishes (hundreds of deliveries here);
    # paced, it starts at most RATE a second (plus a burst and a little slack).
    assert len(published) > 3 * (RATE * elapsed + 3), "too few publishes to tell"
    assert 1 <= during <= RATE * elapsed + 3, (during, len(published), elapsed)
    got = await receiver.wait_for(len(published), seconds=60)
    assert sorted(r.json["data"]["id"] for r in got) == sorted(published)
    assert len({r.id for r in got}) == len(published)


async def test_stopping_ends_a_pause_at_once(database_url: str) -> None:
    """At a busy rate of one start per 100 s, the round after the first start pauses for
    100 s; a shutdown does not wait for it."""
    db = Database(database_url)
    dispatcher = Dispatcher(db=db, settings=webhook_settings(database_url, webhook_busy_rate=0.01))
    try:
        await _world(db, to_millis(datetime.now(UTC)))  # deliveries to a closed loopback port
        dispatcher.start()
        dispatcher.wake()  # as a publish does: busy
        await asyncio.sleep(1.0)
        began = time.monotonic()
        await dispatcher.stop()
        assert time.monotonic() - began < 5
    finally:
        await db.dispose()
