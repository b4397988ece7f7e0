"""The app-level stream API (``open_stream``) in-process, on the suite's database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.auth.principal import ADMIN, ANONYMOUS, Principal
from app.errors import BadInput, SlowConsumer
from app.realtime.streams import StreamEvent, open_stream
from app.state import AppState
from app.tokens.service import create_token
from db.query.ast import TRUE, Compare
from tests.fixtures.app import Api
from tests.graphql.helpers import publish, seed_basic


def _state(api: Api) -> AppState:
    state: AppState = api.app.state.eventgraph
    return state


async def _take(stream: AsyncIterator[StreamEvent], n: int) -> list[StreamEvent]:
    return [await asyncio.wait_for(anext(stream), 5) for _ in range(n)]


async def test_live_events_in_order_with_filter_and_scope(api: Api) -> None:
    await seed_basic(api)
    hub = _state(api).hub
    async with open_stream(
        hub, principal=ANONYMOUS, filter=Compare("type", "eq", "a"), after=None, snapshot=None
    ) as stream:
        await publish(api, "priv", {"type": "a", "data": 0})
        await publish(api, "pub", {"type": "b", "data": 1}, {"type": "a", "data": 2})
        await publish(api, "pub", {"type": "a", "data": 3})
        got = await _take(stream, 2)
    assert [item.row["data"] for item in got] == [2, 3]
    assert not any(item.replayed for item in got)
    assert got[-1].resume_after == got[-1].row["id"]
    assert hub.subscriber_count == 0


async def test_subscribers_joining_and_leaving_between_events(api: Api) -> None:
    """The fan-out's index of subscribers follows registrations and departures."""
    await seed_basic(api)
    hub = _state(api).hub
    open_all = lambda: open_stream(  # noqa: E731
        hub, principal=ADMIN, filter=None, after=None, snapshot=None
    )
    async with open_all() as first:
        await publish(api, "pub", {"data": 0})
        await _take(first, 1)
        left, _ = hub.register(scope=ADMIN.read_scope, filter=TRUE, token_id=None)
        async with open_all() as second:
            await publish(api, "pub", {"data": 1})
            assert [i.row["data"] for i in await _take(second, 1)] == [1]
        assert (await left.next())[0]["data"] == 1
        hub.unregister(left)
        await publish(api, "pub", {"data": 2})
        assert [i.row["data"] for i in await _take(first, 2)] == [1, 2]
    with pytest.raises(TimeoutError):  # the departed subscriber was offered nothing
        await asyncio.wait_for(left.next(), 0.1)


async def test_snapshot_then_live_and_after(api: Api) -> None:
    await seed_basic(api)
    hub = _state(api).hub
    first = await publish(api, "pub", *({"data": i} for i in range(5)))
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=3) as stream:
        await publish(api, "pub", {"data": 5})
        got = await _take(stream, 4)
    assert [item.row["data"] for item in got] == [2, 3, 4, 5]
    async with open_stream(
        hub, principal=ADMIN, filter=None, after=first[1]["id"], snapshot=None
    ) as stream:
        got = await _take(stream, 4)
    assert [item.row["data"] for item in got] == [2, 3, 4, 5]


async def test_bad_arguments_are_bad_input(api: Api) -> None:
    hub = _state(api).hub
    for kwargs in (
        {"after": "nope", "snapshot": None},
        {"after": "x", "snapshot": 1},
        {"after": None, "snapshot": 1001},
    ):
        with pytest.raises(BadInput):
            async with open_stream(hub, principal=ADMIN, filter=None, **kwargs):  # type: ignore[arg-type]
                pass


async def test_slow_consumer_gets_the_resume_id(api: Api) -> None:
    await seed_basic(api)
    state = _state(api)
    state.settings.stream_queue_size = 5
    async with open_stream(state.hub, principal=ADMIN, filter=None, after=None, snapshot=None) as s:
        await publish(api, "pub", {"data": 0})
        (first,) = await _take(s, 1)
        await publish(api, "pub", *({"data": i} for i in range(1, 20)))
        await asyncio.sleep(0.3)
        with pytest.raises(SlowConsumer) as info:
            await _take(s, 10)
    assert info.value.resume_after == first.row["id"]


async def test_a_burst_does_not_cut_a_subscriber_that_drains(api: Api) -> None:
    """One commit of four times the queue bound must not end a subscriber that empties its
    queue whenever it runs: the tail reads a quarter of the bound at a time, and the
    subscriber drains while the next batch is read. (A tail batch of 1,000 with the
    default bound of 1,000 cut any subscriber with one event still queued.)"""
    await seed_basic(api)
    state = _state(api)
    state.settings.stream_queue_size = 50
    async with open_stream(state.hub, principal=ADMIN, filter=None, after=None, snapshot=None) as s:

        async def drain() -> list[StreamEvent]:
            return [await anext(s) for _ in range(200)]

        draining = asyncio.create_task(asyncio.wait_for(drain(), 10))
        published = await publish(api, "pub", *({"data": i} for i in range(200)))
        got = await draining
    assert [item.row["id"] for item in got] == [row["id"] for row in published]


async def test_a_token_check_in_flight_spares_a_subscriber_that_registers_meanwhile(
    api: Api,
) -> None:
    """The token check queries the tokens it saw; a subscriber registered during that
    query (its token not looked up) must not be taken for revoked. This race ended
    subscriptions right after they opened."""
    state = _state(api)
    hub = state.hub
    tokens = []
    for name in ("first", "second"):
        row, _ = await create_token(db=state.db, principal=ADMIN, name=name, kind="subscribe")
        tokens.append(Principal(kind="subscribe", token_id=row["id"]))
    first, _ = hub.register(scope=tokens[0].read_scope, filter=TRUE, token_id=tokens[0].token_id)
    check = asyncio.create_task(hub.check_tokens())
    await asyncio.sleep(0)  # the check has taken its token list and awaits the database
    assert not check.done()
    second, _ = hub.register(scope=tokens[1].read_scope, filter=TRUE, token_id=tokens[1].token_id)
    try:
        await check
        assert first.ended is None
        assert second.ended is None
    finally:
        hub.unregister(first)
        hub.unregister(second)
