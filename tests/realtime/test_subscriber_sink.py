"""``Subscriber.sink``: the fan-out hands an event over itself only while the reader waits
with nothing queued, so events keep their order (``app/realtime/subscriber.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

from app.realtime.subscriber import Subscriber
from db.query.ast import TRUE
from db.query.scope import ANONYMOUS_SCOPE


def _row(seq: int) -> Any:
    return {"seq": seq}


async def test_the_sink_takes_events_only_while_the_reader_waits_with_nothing_queued() -> None:
    subscriber = Subscriber(scope=ANONYMOUS_SCOPE, filter=TRUE, token_id=None, limit=10)
    taken: list[int] = []
    accept = True

    def sink(row: Any, replayed: bool) -> bool:
        if accept:
            taken.append(row["seq"])
        return accept

    subscriber.sink = sink
    subscriber.push(_row(1), False)  # nobody waits: queued
    assert (await subscriber.next())[0]["seq"] == 1
    reader = asyncio.create_task(subscriber.next())
    await asyncio.sleep(0)  # the reader waits now
    subscriber.push(_row(2), False)
    subscriber.push(_row(3), True)
    assert taken == [2, 3]
    accept = False
    subscriber.push(_row(4), False)  # declined: queued, the reader woken
    accept = True
    subscriber.push(_row(5), False)  # the reader is woken but has not run: behind 4
    assert taken == [2, 3]
    assert (await reader)[0]["seq"] == 4
    assert (await subscriber.next())[0]["seq"] == 5
