"""Idempotent publishing: a repeat stores nothing, answers the same events, and is not
delivered again; a different request under the same key is a conflict."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.read import EventRow
from app.state import AppState
from db.database import ConnOnDemand, WriteConn
from db.repositories import idempotency as key_repo
from db.tables import events_table, idempotency_table
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import make_channel, make_token, make_workspace

URL = "/api/v1/channels/c/events"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
PUBLISH_EVENTS = (
    "mutation($e: [EventInput!]!, $k: String) {"
    ' publishEvents(channelId: "c", events: $e, idempotencyKey: $k) { id } }'
)


class Recorder:
    """A delivery target noting the ids it is handed."""

    def __init__(self) -> None:
        self.staged: list[str] = []
        self.delivered: list[str] = []

    async def stage_in_statement(self, conn: ConnOnDemand, channel: Any, rows: Any) -> Staging:
        return Staging.TRANSACTION

    async def stage(self, conn: WriteConn, rows: Sequence[EventRow], kind: DeliveryKind) -> None:
        self.staged.extend(row["id"] for row in rows)

    async def committed(
        self, rows: Sequence[EventRow], kind: DeliveryKind, channel: Mapping[str, Any] | None
    ) -> None:
        self.delivered.extend(row["id"] for row in rows)


def _state(api: Api) -> AppState:
    state: AppState = api.app.state.eventgraph
    return state


async def _setup(api: Api) -> Recorder:
    await make_workspace(api, "w")
    await make_channel(api, "c", "w")
    target = Recorder()
    _state(api).delivery = Delivery(targets=(target,))
    return target


async def _stored(api: Api) -> int:
    async with _state(api).db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(events_table))).scalar())


def _keyed(key: str, headers: dict[str, str] = ADMIN) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_rest_repeat_answers_the_same_event_and_stores_nothing(api: Api) -> None:
    target = await _setup(api)
    first = await api.http.post(URL, json={"type": "a", "data": 1}, headers=_keyed("k1"))
    assert first.status_code == 201, first.text
    again = await api.http.post(URL, json={"type": "a", "data": 1}, headers=_keyed("k1"))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await _stored(api) == 1
    assert target.staged == target.delivered == [first.json()["id"]]

    batch = {"events": [{"data": 1}, {"data": 2}]}
    first = await api.http.post(URL, json=batch, headers=_keyed("k2"))
    again = await api.http.post(URL, json=batch, headers=_keyed("k2"))
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert await _stored(api) == 3

    different = await api.http.post(URL, json={"type": "a", "data": 2}, headers=_keyed("k1"))
    assert different.status_code == 409
    assert different.json()["error"]["code"] == "CONFLICT"
    assert different.json()["error"]["path"] == "Idempotency-Key"
    # Same content, other shape (a batch of one instead of one event): a different request.
    shape = await api.http.post(
        URL, json={"events": [{"type": "a", "data": 1}]}, headers=_keyed("k1")
    )
    assert shape.status_code == 409
    assert await _stored(api) == 3
    assert len(target.delivered) == 3


async def test_keys_belong_to_their_publisher_and_are_checked(api: Api) -> None:
    await _setup(api)
    secret = await make_token(api, kind="publish", channelIds=["c"])
    mine = await api.http.post(URL, json={"data": 1}, headers=_keyed("k"))
    theirs = await api.http.post(
        URL, json={"data": 1}, headers=_keyed("k", {"Authorization": f"Bearer {secret}"})
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    for bad in ("", "x" * 256):
        r = await api.http.post(URL, json={"data": 1}, headers=_keyed(bad))
        assert r.status_code == 400, r.text
        assert r.json()["error"]["path"] == "Idempotency-Key"
    assert await _stored(api) == 2


async def test_graphql_repeat_and_conflict(api: Api) -> None:
    target = await _setup(api)
    events = [{"type": "a", "data": {"n": 1}}, {"data": 2}]
    first = await api.ok(PUBLISH_EVENTS, {"e": events, "k": "g1"})
    again = await api.ok(PUBLISH_EVENTS, {"e": events, "k": "g1"})
    assert again == first
    single = (
        'mutation { publishEvent(channelId: "c", event: {data: 3}, idempotencyKey: "g2") { id } }'
    )
    one = await api.ok(single)
    assert await api.ok(single) == one
    assert await _stored(api) == 3
    assert len(target.delivered) == 3
    code = await api.error_code(PUBLISH_EVENTS, {"e": events[:1], "k": "g1"})
    assert code == "CONFLICT"


async def test_concurrent_retries_store_one_copy(api: Api) -> None:
    target = await _setup(api)
    body: dict[str, Any] = {"events": [{"type": "a", "data": i} for i in range(3)]}
    responses = await asyncio.gather(
        *(api.http.post(URL, json=body, headers=_keyed("same")) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert await _stored(api) == 3
    assert len(target.delivered) == 3


async def test_a_key_expires_after_the_window_and_is_pruned(api: Api) -> None:
    await _setup(api)
    first = await api.http.post(URL, json={"data": 1}, headers=_keyed("old"))
    db = _state(api).db
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    async with db.transaction() as conn:
        await conn.execute(update(idempotency_table).values(created_at=long_ago))
    again = await api.http.post(URL, json={"data": 1}, headers=_keyed("old"))
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]  # expired: a new publish
    async with db.transaction() as conn:
        await conn.execute(update(idempotency_table).values(created_at=long_ago))
        assert await key_repo.prune(conn, before=datetime.now(UTC) - timedelta(hours=24)) == 1
