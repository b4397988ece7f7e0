"""Seed 003: /api/v1/channels/{channelId}/events — publish, poll, fetch, delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from app.auth.principal import ADMIN as ADMIN_PRINCIPAL
from app.events.delivery import Delivery
from app.events.publish import EventDraft, publish_events
from app.settings import Settings
from db.database import Database
from tests.rest.conftest import ADMIN, World, bearer

SEED_SINGLE = {
    "type": "price.update",
    "data": {"symbol": "BTC", "price": 67500.0, "timestamp": "2025-01-15T09:30:00Z"},
    "meta": '{"component": "price-ticker@0.1"}',
}
SEED_BATCH = {
    "events": [
        {"type": "price.update", "data": {"symbol": "BTC", "price": 67500.0}},
        {"type": "price.update", "data": {"symbol": "ETH", "price": 3200.0}},
    ]
}


async def test_publish_single_as_documented(world: World) -> None:
    agent = world.tokens["agent"]
    response = await world.api.http.post(
        "/api/v1/channels/market/events", json=SEED_SINGLE, headers=bearer(agent)
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "channel_id",
        "type",
        "subject_id",
        "user_id",
        "parent_id",
        "data",
        "publisher_id",
        "publisher_name",
        "created_at",
        "meta",
    }
    assert len(body["id"]) == 26
    assert body["channel_id"] == "market"
    assert body["data"] == SEED_SINGLE["data"]
    assert body["meta"] == SEED_SINGLE["meta"]
    assert body["publisher_id"] == "agent-001"
    assert body["publisher_name"] == "Market Agent"
    assert body["created_at"].endswith("Z")


async def test_publish_batch_as_documented(world: World) -> None:
    response = await world.api.http.post(
        "/api/v1/channels/market/events", json=SEED_BATCH, headers=bearer(world.tokens["agent"])
    )
    assert response.status_code == 201
    events = response.json()["events"]
    assert [e["data"]["symbol"] for e in events] == ["BTC", "ETH"]
    assert events[0]["id"] < events[1]["id"]


async def test_publish_errors(world: World, settings: Settings) -> None:
    http, agent = world.api.http, bearer(world.tokens["agent"])
    url = "/api/v1/channels/market/events"

    async def error(
        body: object, headers: dict[str, str], channel: str = "market"
    ) -> tuple[int, str, str | None]:
        r = await http.post(f"/api/v1/channels/{channel}/events", json=body, headers=headers)
        return r.status_code, r.json()["error"].get("code"), r.json()["error"].get("path")

    assert await error({"type": "x"}, agent) == (400, "BAD_USER_INPUT", "data")
    assert await error({"type": "x", "data": None}, agent) == (400, "BAD_USER_INPUT", "data")
    assert await error({"events": [{"data": 1}, {"type": "y"}]}, agent) == (
        400,
        "BAD_USER_INPUT",
        "events[1].data",
    )
    assert (await error({"data": 1, "typo": 2}, agent))[2] == "typo"
    assert (await error({"data": 1}, agent, channel="nope"))[0] == 404
    assert (await error({"data": 1}, {}))[0] == 401
    assert (await error({"data": 1}, bearer("eg_not_a_token")))[0] == 401
    other = bearer(world.tokens["other-agent"])
    assert (await error({"data": 1}, other, channel="secret"))[:2] == (403, "FORBIDDEN")
    assert (await error({"data": 1}, bearer(world.tokens["reader"]), channel="secret"))[0] == 403
    big = {"data": "x" * (settings.max_event_bytes + 1)}
    assert await error(big, agent) == (413, "PAYLOAD_TOO_LARGE", "data")
    batch = {"events": [{"data": 1}] * (settings.max_batch + 1)}
    assert (await error(batch, agent))[:2] == (413, "PAYLOAD_TOO_LARGE")
    r = await http.post(
        url, content=b"{not json", headers={**agent, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "BAD_USER_INPUT"
    assert (await error([1, 2], agent))[0] == 400
    assert (await error({"events": "no"}, agent))[:3] == (400, "BAD_USER_INPUT", "events")


async def test_strict_types_schema_failure_is_400(world: World) -> None:
    http = world.api.http
    r = await http.post(
        "/api/v1/channels",
        json={
            "id": "strict",
            "name": "strict",
            "workspaceId": "acme",
            "strictTypes": True,
            "schemas": {
                "price.update": {
                    "type": "object",
                    "required": ["symbol"],
                    "properties": {"symbol": {"type": "string"}},
                }
            },
        },
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    ok = await http.post(
        "/api/v1/channels/strict/events",
        json={"type": "price.update", "data": {"symbol": "BTC"}},
        headers=ADMIN,
    )
    assert ok.status_code == 201
    for body in ({"type": "price.update", "data": {"symbol": 1}}, {"type": "other", "data": {}}):
        bad = await http.post("/api/v1/channels/strict/events", json=body, headers=ADMIN)
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"]["code"] == "BAD_USER_INPUT"


async def test_poll_public_channel_without_auth(world: World, settings: Settings) -> None:
    created = await world.publish_many(
        "market", [{"type": "a", "data": i} for i in range(5)], token=world.tokens["agent"]
    )
    r = await world.api.http.get("/api/v1/channels/market/events")
    assert r.status_code == 200
    assert r.headers["cache-control"] == f"public, s-maxage={settings.poll_interval}"
    body = r.json()
    assert [e["id"] for e in body["events"]] == [e["id"] for e in created]
    assert body["has_more"] is False
    assert isinstance(body["cursor"], str)
    assert set(body["events"][0]) >= {"id", "channel_id", "type", "data", "publisher_id"}


async def test_poll_pages_with_cursor_and_empty_page_keeps_cursor(world: World) -> None:
    http = world.api.http
    created = await world.publish_many("market", [{"type": "a", "data": i} for i in range(5)])
    seen: list[str] = []
    r = await http.get("/api/v1/channels/market/events", params={"limit": 2})
    body = r.json()
    assert body["has_more"] is True
    seen += [e["id"] for e in body["events"]]
    cursor = body["cursor"]
    while body["has_more"]:
        body = (
            await http.get("/api/v1/channels/market/events", params={"limit": 2, "cursor": cursor})
        ).json()
        seen += [e["id"] for e in body["events"]]
        cursor = body["cursor"]
    assert seen == [e["id"] for e in created]
    empty = (await http.get("/api/v1/channels/market/events", params={"cursor": cursor})).json()
    assert empty == {"events": [], "cursor": cursor, "has_more": False}
    later = await world.publish("market", {"data": "late"})
    after = (await http.get("/api/v1/channels/market/events", params={"cursor": cursor})).json()
    assert [e["id"] for e in after["events"]] == [later["id"]]


async def test_poll_type_since_and_cursor_wins(world: World) -> None:
    http = world.api.http
    await world.publish_many("market", [{"type": "a", "data": 1}, {"type": "b", "data": 2}])
    only_b = (await http.get("/api/v1/channels/market/events?type=b")).json()["events"]
    assert [e["type"] for e in only_b] == ["b"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    r = await http.get("/api/v1/channels/market/events", params={"since": future})
    assert r.json()["events"] == []
    past = "2000-01-01T00:00:00Z"
    assert (
        len((await http.get(f"/api/v1/channels/market/events?since={past}")).json()["events"]) == 2
    )
    first = (await http.get("/api/v1/channels/market/events?limit=1")).json()
    # cursor wins over since: the future `since` is ignored.
    r = await http.get(
        "/api/v1/channels/market/events", params={"cursor": first["cursor"], "since": future}
    )
    assert [e["type"] for e in r.json()["events"]] == ["b"]


async def test_since_is_strictly_after(world: World) -> None:
    event = await world.publish("market", {"data": 1})
    r = await world.api.http.get(
        "/api/v1/channels/market/events", params={"since": event["created_at"]}
    )
    assert r.json()["events"] == []


async def test_poll_private_channel_auth(world: World) -> None:
    http = world.api.http
    await world.publish("secret", {"data": 1})
    anonymous = await http.get("/api/v1/channels/secret/events")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    outsider = await http.get(
        "/api/v1/channels/secret/events", headers=bearer(world.tokens["outsider"])
    )
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "FORBIDDEN"
    reader = await http.get(
        "/api/v1/channels/secret/events", headers=bearer(world.tokens["reader"])
    )
    assert reader.status_code == 200
    assert reader.headers["cache-control"] == "private, no-store"
    assert len(reader.json()["events"]) == 1
    unknown = await http.get("/api/v1/channels/nope/events")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"


async def test_poll_hostile_params(world: World) -> None:
    http = world.api.http
    for query, path in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-5", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=c2VxOi0x", "cursor"),
        ("since=yesterday", "since"),
    ):
        r = await http.get(f"/api/v1/channels/market/events?{query}")
        assert r.status_code == 400, query
        assert r.json()["error"]["path"] == path, query


async def test_get_one_event(world: World) -> None:
    http = world.api.http
    event = await world.publish("market", SEED_SINGLE, token=world.tokens["agent"])
    r = await http.get(f"/api/v1/channels/market/events/{event['id']}")
    assert r.status_code == 200
    assert r.json() == event
    assert (await http.get(f"/api/v1/channels/secret/events/{event['id']}")).status_code == 401
    other = await http.get(
        f"/api/v1/channels/secret/events/{event['id']}", headers=bearer(world.tokens["reader"])
    )
    assert other.status_code == 404
    assert (await http.get("/api/v1/channels/market/events/01ZZZ")).status_code == 404


async def test_delete(world: World) -> None:
    http = world.api.http
    event = await world.publish("market", {"data": 1}, token=world.tokens["agent"])
    url = f"/api/v1/channels/market/events/{event['id']}"
    assert (await http.delete(url)).status_code == 401
    wrong_publisher = await http.delete(url, headers=bearer(world.tokens["other-agent"]))
    assert wrong_publisher.status_code == 403
    subscriber = await http.delete(url, headers=bearer(world.tokens["reader"]))
    assert subscriber.status_code == 403
    other_channel = await http.delete(
        f"/api/v1/channels/secret/events/{event['id']}", headers=bearer(world.tokens["agent"])
    )
    assert other_channel.status_code == 404
    ok = await http.delete(url, headers=bearer(world.tokens["agent"]))
    assert ok.status_code == 204
    assert ok.content == b""
    gone_delete = await http.delete(url, headers=ADMIN)
    gone_get = await http.get(url)
    assert gone_delete.status_code == gone_get.status_code == 404
    assert gone_delete.json()["error"]["path"] == gone_get.json()["error"]["path"] == "eventId"


async def test_publish_answers_with_every_field_it_stored(world: World) -> None:
    http = world.api.http
    parent = await world.publish("market", {"data": 1}, token=world.tokens["agent"])
    sent = {"data": 2, "subject_id": "order-7", "user_id": "u-1", "parent_id": parent["id"]}
    child = await world.publish("market", sent, token=world.tokens["agent"])
    assert {k: child[k] for k in ("subject_id", "user_id", "parent_id")} == {
        "subject_id": "order-7",
        "user_id": "u-1",
        "parent_id": parent["id"],
    }
    assert parent["parent_id"] is None
    fetched = await http.get(f"/api/v1/channels/market/events/{child['id']}")
    assert fetched.json() == child


async def test_camel_case_field_is_told_the_api_is_snake_case(world: World) -> None:
    response = await world.api.http.post(
        "/api/v1/channels/market/events",
        json={"events": [{"data": 1}, {"data": 2, "parentId": "x"}]},
        headers=bearer(world.tokens["agent"]),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["path"] == "events[1].parentId"
    assert "snake_case" in error["message"]
    assert "'parent_id'" in error["message"]


async def test_concurrent_publishers_poller_sees_each_event_once(world: World) -> None:
    http = world.api.http
    publishers, per_publisher = 4, 15
    done = asyncio.Event()

    async def publisher(n: int) -> list[str]:
        ids = []
        for i in range(per_publisher):
            body = {"events": [{"type": f"p{n}", "data": i}, {"type": f"p{n}", "data": -i}]}
            r = await http.post("/api/v1/channels/market/events", json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
            ids += [e["id"] for e in r.json()["events"]]
            await asyncio.sleep(0)
        return ids

    async def poller() -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            finished = done.is_set()
            params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
            r = await http.get("/api/v1/channels/market/events", params=params)
            body = r.json()
            seen += [e["id"] for e in body["events"]]
            cursor = body["cursor"]
            if finished and not body["has_more"]:
                return seen
            await asyncio.sleep(0)

    poll_task = asyncio.create_task(poller())
    published = await asyncio.gather(*(publisher(n) for n in range(publishers)))
    done.set()
    seen = await poll_task
    expected = {event_id for ids in published for event_id in ids}
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == expected


async def test_two_database_instances_publishing_poller_sees_each_event_once(
    world: World, settings: Settings
) -> None:
    """Publishers on separate engines (as separate processes would be) while polling."""
    nodes = [Database(settings.database_url), Database(settings.database_url)]
    done = asyncio.Event()

    async def publisher(db: Database, n: int) -> list[str]:
        ids: list[str] = []
        for i in range(20):
            rows = await publish_events(
                db=db,
                settings=settings,
                principal=ADMIN_PRINCIPAL,
                channel_id="market",
                drafts=[EventDraft(type=f"n{n}", data=i), EventDraft(type=f"n{n}", data=-i)],
                delivery=Delivery(),
            )
            ids += [row["id"] for row in rows]
        return ids

    async def poller() -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            finished = done.is_set()
            params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
            body = (
                await world.api.http.get("/api/v1/channels/market/events", params=params)
            ).json()
            seen += [e["id"] for e in body["events"]]
            cursor = body["cursor"]
            if finished and not body["has_more"]:
                return seen
            await asyncio.sleep(0)

    try:
        poll_task = asyncio.create_task(poller())
        published = await asyncio.gather(
            *(publisher(db, n) for n, db in enumerate([*nodes, *nodes]))
        )
        done.set()
        seen = await poll_task
    finally:
        for db in nodes:
            await db.dispose()
    expected = [event_id for ids in published for event_id in ids]
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == set(expected)
