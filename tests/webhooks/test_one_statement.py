"""On PostgreSQL a publish that webhooks match in memory is one statement that commits on
its own and writes the outbox row itself; a webhook whose filter tests related rows makes
it a transaction (its matching needs the stored rows)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import text

from app.auth.principal import ADMIN
from app.channels.service import update_channel
from db.database import Database
from tests.app.test_publish_alone import _position_lock_is_free, statements_sent
from tests.fixtures.app import Api
from tests.webhooks.conftest import create_webhook, publish, setup_world
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _postgresql_only(dialect: str) -> None:
    if dialect != "postgresql":
        pytest.skip("the one-statement publish is PostgreSQL's")


def event_inserts(db: Database) -> AbstractContextManager[list[tuple[str, bool]]]:
    """Each ``INSERT INTO events`` statement sent, with whether the position lock was free
    right after its answer arrived (it is when the statement committed on its own)."""
    return statements_sent(db, "INSERT INTO events", lambda: _position_lock_is_free(db.url))


async def subscribe_token(api: Api, channel: str) -> str:
    created = await api.ok(
        f'mutation {{ createToken(input: {{name: "r", kind: subscribe, channelIds: ["{channel}"]}})'
        " { secret } }"
    )
    secret: str = created["createToken"]["secret"]
    return secret


async def staged(db: Database) -> list[tuple[str, int]]:
    """(event id, event seq) of every delivery, and of the outbox rows not expanded yet."""
    async with db.read() as conn:
        rows = await conn.execute(text("SELECT event_id, event_seq FROM webhook_deliveries"))
        found = [(r[0], int(r[1])) for r in rows]
        boxes = await conn.execute(
            text(
                "SELECT e.value->>0, (e.value->>1)::bigint FROM webhook_outbox o,"
                " json_array_elements((o.entries::json)->'events') e"
            )
        )
        found += [(r[0], int(r[1])) for r in boxes]
    return found


@pytest.mark.parametrize(
    ("webhook", "delivered"),
    [
        ({}, [0, 1, 2]),
        ({"filter": {"type": {"eq": "b"}}}, [1]),
        ({"filter": {"data": {"path": {"path": ["n"], "gte": 1}}}, "channelId": "market"}, [1, 2]),
        ({"token": "market"}, [0, 1, 2]),  # a channel-scoped creator reading a public channel
    ],
    ids=["all", "type", "data-and-channel", "scoped"],
)
async def test_a_publish_matched_in_memory_is_one_statement_with_its_outbox_row(
    api: Api, receiver: Receiver, webhook: dict[str, Any], delivered: list[int]
) -> None:
    await setup_world(api)
    if "token" in webhook:
        webhook = {"token": await subscribe_token(api, webhook["token"])}
    await create_webhook(api, receiver, **webhook)
    db: Database = api.app.state.eventgraph.db
    with event_inserts(db) as inserts:
        ids = await publish(
            api, "market", *({"type": t, "data": {"n": n}} for n, t in enumerate("abc"))
        )
    [(statement, lock_free)] = inserts
    assert "INSERT INTO webhook_outbox" in statement
    assert lock_free
    got = await receiver.wait_for(len(delivered))
    assert sorted(r.json["data"]["id"] for r in got) == sorted(ids[i] for i in delivered)
    async with db.read() as conn:
        seqs = dict((await conn.execute(text("SELECT id, seq FROM events"))).all())
    assert sorted(await staged(db)) == sorted((ids[i], seqs[ids[i]]) for i in delivered)


async def test_a_publish_no_webhook_matches_writes_no_outbox_row(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    await create_webhook(api, receiver, token=await subscribe_token(api, "market"))
    await create_webhook(api, receiver, filter={"type": {"eq": "never"}})
    db: Database = api.app.state.eventgraph.db
    with event_inserts(db) as inserts:
        await publish(api, "elsewhere", {"type": "a", "data": 1})  # private, not readable
    [(statement, lock_free)] = inserts
    assert "webhook_outbox" not in statement
    assert lock_free
    async with db.read() as conn:
        boxes = (await conn.execute(text("SELECT count(*) FROM webhook_outbox"))).scalar_one()
    assert boxes == 0
    assert await staged(db) == []


async def test_a_relation_filter_makes_the_publish_a_transaction(
    api: Api, receiver: Receiver
) -> None:
    await setup_world(api)
    await create_webhook(api, receiver, filter={"channel": {"private": {"eq": True}}})
    db: Database = api.app.state.eventgraph.db
    with event_inserts(db) as inserts:
        [event_id] = await publish(api, "secret", {"data": 1})
    [(statement, lock_free)] = inserts
    assert "webhook_outbox" not in statement
    assert not lock_free  # held until the transaction's COMMIT
    [got] = await receiver.wait_for(1)
    assert got.json["data"]["id"] == event_id


async def test_a_held_channel_made_private_since_stages_nothing_for_a_creator_who_lost_it(
    api: Api, receiver: Receiver
) -> None:
    """The outbox row is decided on the held channel copy; when the channel changed since,
    the statement stores nothing, outbox row included, and the publish is decided again."""
    await setup_world(api)
    await create_webhook(api, receiver, token=await subscribe_token(api, "secret"))
    db: Database = api.app.state.eventgraph.db
    [first] = await publish(api, "market", {"data": 1})  # public: the creator reads it
    other = Database(db.url)  # another process: this one's held copy goes stale
    try:
        await update_channel(db=other, principal=ADMIN, id="market", private=True)
    finally:
        await other.dispose()
    with event_inserts(db) as inserts:
        [second] = await publish(api, "market", {"data": 2})
    stale, fresh = (statement for statement, _ in inserts)
    assert "INSERT INTO webhook_outbox" in stale  # decided on the held (public) copy
    assert "webhook_outbox" not in fresh  # decided again: private, out of the creator's scope
    [got] = await receiver.wait_for(1)
    assert got.json["data"]["id"] == first
    async with db.read() as conn:
        seqs = dict((await conn.execute(text("SELECT id, seq FROM events"))).all())
    assert sorted(seqs.values()) == [1, 2]  # the refused statement reserved no position
    assert await staged(db) == [(first, seqs[first])]
    assert second in seqs
