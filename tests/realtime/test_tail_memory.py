"""The tail takes the events this process published from memory (``Hub._held``), in-process.

The tail's timer is set to a minute here, so the database is read only when the tail
must: at its first round, on a hole below the held rows, and on another process's wake-up.
Every test compares what subscribers got with what the database holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from app.auth.principal import ADMIN
from app.realtime.hub import Hub
from app.realtime.streams import StreamEvent, open_stream
from app.settings import Settings
from app.state import AppState
from db.query.ast import Compare, Related
from db.repositories import stream as stream_repo
from tests.fixtures.app import Api, running_api
from tests.fixtures.databases import terminate_backend
from tests.graphql.helpers import publish, seed_basic

# Key order, numbers jsonb writes otherwise, non-ASCII keys of equal length, nesting.
TRICKY: list[Any] = [
    {"bb": 1, "a": 2, "é": 3, "z": 4, "ab": {"y": [1e16, 1e20, -0.0, 1.5e-7, 123.0, 0.1]}},
    [{"zz": None, "a": True}, 2**62, -(2**63), 5e-324, 1.7976931348623157e308],
    "text",
    7,
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_poll_seconds": 60.0})


def _hub(api: Api) -> Hub:
    state: AppState = api.app.state.eventgraph
    return state.hub


def _tail_reads(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids every database read of the tail returned, from now on."""
    read: list[str] = []
    original = hub._next_rows

    async def recording(conn: Any, limit: int) -> list[stream_repo.Row]:
        rows = await original(conn, limit)
        read.extend(row["id"] for row in rows)
        return rows

    monkeypatch.setattr(hub, "_next_rows", recording)
    return read


def _tail_rounds(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """One entry per round of the tail task from now on."""
    rounds: list[None] = []
    original = hub._catch_up

    async def recording() -> None:
        rounds.append(None)
        await original()

    monkeypatch.setattr(hub, "_catch_up", recording)
    return rounds


async def _take(stream: AsyncIterator[StreamEvent], n: int) -> list[StreamEvent]:
    return [await asyncio.wait_for(anext(stream), 10) for _ in range(n)]


async def _first_round(api: Api, stream: AsyncIterator[StreamEvent]) -> dict[str, Any]:
    """Publish one event and take it: the tail's first round, which reads the database
    anyway (after taking the event), is over when this returns."""
    (row,) = await publish(api, "pub", {"data": {"first": 1}})
    await _take(stream, 1)
    await asyncio.sleep(0.2)
    return row


async def _stored(hub: Hub, ids: list[str]) -> list[stream_repo.Row]:
    """The rows ``stream_repo.tail`` reads for ``ids`` (which follow each other), in order."""
    async with hub.db.read() as conn:
        first = await stream_repo.seq_of(conn, ids[0])
        assert first is not None
        rows = await stream_repo.tail(conn, after_seq=first - 1, limit=len(ids))
    assert [row["id"] for row in rows] == ids
    for row in rows:
        del row[stream_repo.CHANNEL_PRIVATE]
    return rows


def _same(got: list[StreamEvent], stored: list[stream_repo.Row]) -> None:
    """Same keys in the same order, same values of the same types (``1`` is not ``1.0``)."""
    assert [orjson.dumps(item.row) for item in got] == [orjson.dumps(row) for row in stored]
    assert [item.row for item in got] == stored


def _counted(hub: Hub) -> Callable[[], dict[str, float]]:
    """The tail's batches since now by source; ``memory`` counts both takes of held rows
    (by the tail task, and by the publishing request: ``publish``)."""
    from app.observability.metrics import STREAM_TAIL_READS

    sources = ("memory", "publish", "database")
    start = {source: STREAM_TAIL_READS.labels(source)._value.get() for source in sources}

    def since() -> dict[str, float]:
        got = {s: STREAM_TAIL_READS.labels(s)._value.get() - start[s] for s in sources}
        got["memory"] += got["publish"]
        return got

    return since


async def test_local_publishes_are_delivered_without_a_tail_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_basic(api)
    hub = _hub(api)
    # No timer round during the test: one may read a row committed here before its
    # publish handed it over (a legitimate read, which would fail the check below).
    monkeypatch.setattr(hub.settings, "stream_poll_seconds", 60.0)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        await _first_round(api, stream)  # its round starts the tail's wait with 60 s
        read = _tail_reads(hub, monkeypatch)
        counted = _counted(hub)
        ids: list[str] = []
        for n, data in enumerate(TRICKY):
            channel = "priv" if n % 2 else "pub"
            events = [{"type": f"t{n}", "data": data, "meta": {"m": n, "b": 1.0}}] * (n + 1)
            ids += [row["id"] for row in await publish(api, channel, *events)]
        got = await _take(stream, len(ids))
    assert [item.row["id"] for item in got] == ids
    assert not read, "an event published here was read back from the database"
    assert counted()["memory"] >= 1
    _same(got, await _stored(hub, ids))


async def test_the_publishing_request_queues_its_events_itself(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the tail between rounds, a publish puts its events in the subscribers' queues
    before it answers rather than waiting for the tail task's turn; with a subscriber whose
    filter tests a relation (a statement: an await), the tail task does it."""
    await seed_basic(api)
    hub = _hub(api)
    monkeypatch.setattr(hub.settings, "stream_poll_seconds", 60.0)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        await _first_round(api, stream)
        counted = _counted(hub)
        rounds = _tail_rounds(hub, monkeypatch)
        ids = [(await publish(api, "pub", {"data": {"n": n}}))[0]["id"] for n in range(5)]
        assert [item.row["id"] for item in await _take(stream, 5)] == ids
        assert counted()["publish"] == 5
        await asyncio.sleep(0.1)
        assert rounds == [], "the tail was woken with nothing left to take"
        relation = Related("channel", Compare("id", "eq", "pub"))
        async with open_stream(
            hub, principal=ADMIN, filter=relation, after=None, snapshot=None
        ) as related:
            counted = _counted(hub)
            (row,) = await publish(api, "pub", {"data": {"n": 5}})
            assert [item.row["id"] for item in await _take(stream, 1)] == [row["id"]]
            assert [item.row["id"] for item in await _take(related, 1)] == [row["id"]]
            assert counted()["publish"] == 0
            assert counted()["memory"] == 1


async def test_woken_subscribers_take_their_events_before_the_publish_goes_on(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Having queued its events, the publish lets the subscribers it woke run (and write
    their frames) before it answers."""
    await seed_basic(api)
    hub = _hub(api)
    monkeypatch.setattr(hub.settings, "stream_poll_seconds", 60.0)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        await _first_round(api, stream)
        received: list[str] = []

        async def consume() -> None:
            received.append((await anext(stream)).row["id"])

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.05)  # the consumer is waiting in its stream
        when_published: list[list[str]] = []
        real = hub.published

        async def published(rows: Any, *, private: bool | None) -> None:
            await real(rows, private=private)
            when_published.append(list(received))

        monkeypatch.setattr(hub, "published", published)
        (row,) = await publish(api, "pub", {"data": {"n": 1}})
        await asyncio.wait_for(consumer, 10)
    assert when_published == [[row["id"]]]


async def test_rows_not_held_are_read_in_order(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows the hub cannot tell (a top-level float on SQLite) or more than it keeps are
    read from the database, in order."""
    await seed_basic(api)
    hub = _hub(api)
    read = _tail_reads(hub, monkeypatch)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        await _first_round(api, stream)
        floats = [row["id"] for row in await publish(api, "pub", {"data": 1.0}, {"data": 2.5})]
        monkeypatch.setattr("app.realtime.hub.HELD_MAX", 2)
        events = [{"data": {"i": i}} for i in range(3)]
        many = [row["id"] for row in await publish(api, "priv", *events)]
        ids = floats + many
        got = await _take(stream, len(ids))
    assert [item.row["id"] for item in got] == ids
    _same(got, await _stored(hub, ids))
    assert set(many) <= set(read)
    if hub.db.dialect == "sqlite":
        assert set(floats) <= set(read)
    else:
        assert not set(floats) & set(read)


async def test_a_hole_below_the_held_rows_is_read_not_skipped(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish whose rows never reach the hub (another process's, as far as this one
    knows) leaves a hole: the rows above it wait, then the database is read."""
    await seed_basic(api)
    hub = _hub(api)
    real = hub.published
    skip = {"on": True}

    async def published(rows: Any, *, private: bool | None) -> None:
        if not skip["on"]:
            await real(rows, private=private)

    monkeypatch.setattr(hub, "published", published)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        skip["on"] = False
        await _first_round(api, stream)
        skip["on"] = True
        ids = [row["id"] for row in await publish(api, "pub", {"data": {"lost": 1}})]
        skip["on"] = False
        for n in range(3):
            ids += [row["id"] for row in await publish(api, "pub", {"data": {"n": n}})]
        got = await _take(stream, len(ids))
    assert [item.row["id"] for item in got] == ids
    _same(got, await _stored(hub, ids))


async def test_a_held_row_a_read_did_not_return_does_not_keep_the_tail_reading(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row held above a hole that the database no longer has (deleted since) waits for
    the timer like everything else, rather than a read every ``HOLE_WAIT``."""
    await seed_basic(api)
    hub = _hub(api)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        row = await _first_round(api, stream)
        read = _tail_reads(hub, monkeypatch)
        counted = _counted(hub)
        (stored,) = await _stored(hub, [row["id"]])
        gone = {**stored, "id": "gone", "seq": hub.position + 1000}
        await hub.published([gone], private=False)
        await asyncio.sleep(0.3)
        # One read for the hole; a read every HOLE_WAIT would be about 15. The timer may
        # add one.
        assert 1 <= counted()["database"] <= 2
        assert not read
        (after,) = await publish(api, "pub", {"data": {"after": 1}})
        assert [item.row["id"] for item in await _take(stream, 1)] == [after["id"]]


async def test_concurrent_publishes_in_order_exactly_once(api: Api) -> None:
    """Publishes in flight together (joined into one statement on PostgreSQL) report
    their rows in any order: every event arrives once, in position order."""
    await seed_basic(api)
    hub = _hub(api)
    counted = _counted(hub)
    async with open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream:
        batches = await asyncio.gather(
            *(
                publish(api, "pub", *[{"data": {"p": p, "i": i}} for i in range(p % 3 + 1)])
                for p in range(40)
            )
        )
        total = sum(len(batch) for batch in batches)
        got = await _take(stream, total)
    ids = [item.row["id"] for item in got]
    assert sorted(ids) == sorted(row["id"] for batch in batches for row in batch)
    _same(got, await _stored(hub, ids))
    assert counted()["memory"] >= 1


async def test_another_app_interleaving_loses_and_repeats_nothing(
    api: Api, settings: Settings
) -> None:
    await seed_basic(api)
    hub = _hub(api)
    async with (
        running_api(settings) as other,
        open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream,
    ):
        ids: list[str] = []
        for n in range(12):
            # The last publish is this app's: with the memory bus (SQLite) the other app's
            # events are found below a hole, not by a wake-up.
            publisher = other if n % 3 == 1 else api
            rows = await publish(publisher, "pub", *[{"data": {"n": n, "i": i}} for i in range(2)])
            ids += [row["id"] for row in rows]
        concurrent = await asyncio.gather(
            *(publish(other if p % 2 else api, "pub", {"data": {"c": p}}) for p in range(10))
        )
        ids += [row["id"] for rows in concurrent for row in rows]
        ids += [row["id"] for row in await publish(api, "pub", {"data": {"last": 1}})]
        got = await _take(stream, len(ids))
    got_ids = [item.row["id"] for item in got]
    assert sorted(got_ids) == sorted(ids)
    assert got_ids[:24] == ids[:24]
    _same(got, await _stored(hub, got_ids))


async def _kept_pid(hub: Hub) -> int:
    assert hub._reader is not None

    async def pid(conn: Any) -> int:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))

    return await hub._reader.run(pid)


async def test_the_tail_reads_another_process_s_events_on_a_connection_it_keeps(
    api: Api, settings: Settings, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dialect != "postgresql":
        pytest.skip("on SQLite the tail's reads are pooled")
    await seed_basic(api)
    hub = _hub(api)
    reads = _tail_reads(hub, monkeypatch)
    async with (
        running_api(settings) as other,
        open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream,
    ):
        kept = await _kept_pid(hub)
        ids = []
        for n in range(3):
            ids += [row["id"] for row in await publish(other, "pub", {"data": {"n": n}})]
            await _take(stream, 1)
            assert await _kept_pid(hub) == kept  # the same connection, between the reads
    assert reads == ids


async def test_a_lost_tail_connection_is_replaced_and_nothing_is_missed(
    api: Api, settings: Settings, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("on SQLite the tail's reads are pooled")
    await seed_basic(api)
    hub = _hub(api)
    async with (
        running_api(settings) as other,
        open_stream(hub, principal=ADMIN, filter=None, after=None, snapshot=None) as stream,
    ):
        first = await publish(other, "pub", {"data": {"n": 0}})
        await _take(stream, 1)
        lost = await _kept_pid(hub)
        terminate_backend(lost)
        ids = [row["id"] for row in await publish(other, "pub", {"data": {"n": 1}})]
        ids += [row["id"] for row in await publish(other, "pub", {"data": {"n": 2}})]
        got = await asyncio.wait_for(_take(stream, 2), 10)  # the tail's timer is 60 s
        assert [item.row["id"] for item in got] == ids
        assert await _kept_pid(hub) != lost
    assert first
