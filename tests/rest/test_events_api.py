"""Seed 002 (and seed 000's aliases and cookie): /api/events and /api/events/{id}."""

from __future__ import annotations

import json
from typing import Any

import orjson

from tests.rest.conftest import ADMIN, World, bearer

EVENT_KEYS = {
    "id",
    "type",
    "channelId",
    "workspaceId",
    "subjectId",
    "userId",
    "parentId",
    "publisherId",
    "publisherName",
    "data",
    "meta",
    "createdAt",
}


async def _seed(world: World) -> list[dict[str, Any]]:
    agent = world.tokens["agent"]
    first = await world.publish_many(
        "market",
        [
            {"type": "agent.created", "data": {"n": 1}, "subject_id": "s1", "user_id": "u1"},
            {"type": "payload.list", "data": {"n": 2}, "user_id": "u2"},
            {"type": "agent.deleted", "data": {"n": 3}, "subject_id": "s1"},
        ],
        token=agent,
    )
    child = await world.publish(
        "market", {"type": "agent.created", "data": {"n": 4}, "parent_id": first[0]["id"]}
    )
    hidden = await world.publish("elsewhere", {"type": "agent.created", "data": {"n": 5}})
    return [*first, child, hidden]


async def test_list_requires_credentials(world: World) -> None:
    r = await world.api.http.get("/api/events")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "UNAUTHENTICATED"
    bad = await world.api.http.get("/api/events", headers=bearer("nope"))
    assert bad.status_code == 401
    basic = await world.api.http.get("/api/events", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401


async def test_list_shape_and_default_order(world: World) -> None:
    events = await _seed(world)
    r = await world.api.http.get("/api/events", headers=ADMIN)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"data", "pageInfo"}
    assert set(body["pageInfo"]) == {
        "total",
        "hasNextPage",
        "hasPreviousPage",
        "startCursor",
        "endCursor",
    }
    assert body["pageInfo"]["total"] == 5
    assert all(set(e) == EVENT_KEYS for e in body["data"])
    ids = [e["id"] for e in body["data"]]
    assert ids == sorted((e["id"] for e in events), reverse=True)  # newest first
    first = next(e for e in body["data"] if e["id"] == events[0]["id"])
    assert first["subjectId"] == "s1"
    assert first["userId"] == "u1"
    assert first["workspaceId"] == "acme"
    assert first["publisherId"] == "agent-001"


async def test_scope_applies(world: World) -> None:
    await _seed(world)
    reader = await world.api.http.get("/api/events", headers=bearer(world.tokens["reader"]))
    assert reader.json()["pageInfo"]["total"] == 4  # public market, not `elsewhere`
    outsider = await world.api.http.get("/api/events", headers=bearer(world.tokens["outsider"]))
    assert outsider.json()["pageInfo"]["total"] == 5


async def test_seed_000_cookie_topic_and_limit(world: World) -> None:
    await _seed(world)
    token = world.tokens["reader"]
    # curl -H "Cookie: session=<token>" "https://.../api/events?topic=payload.list&limit=50"
    r = await world.api.http.get(
        "/api/events?topic=payload.list&limit=50", headers={"Cookie": f"session={token}"}
    )
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["data"]] == ["payload.list"]


async def test_since_is_strict_and_created_at_bounds_inclusive(world: World) -> None:
    events = await _seed(world)
    r = await world.api.http.get("/api/events?since=2025-03-20T00:00:00Z", headers=ADMIN)
    assert r.json()["pageInfo"]["total"] == 5
    one = (await world.api.http.get(f"/api/events/{events[3]['id']}", headers=ADMIN)).json()
    at = one["createdAt"]
    strict = await world.api.http.get("/api/events", params={"since": at}, headers=ADMIN)
    assert events[3]["id"] not in [e["id"] for e in strict.json()["data"]]
    inclusive = await world.api.http.get(
        "/api/events",
        params={"created_at_after": at, "created_at_before": at},
        headers=ADMIN,
    )
    assert events[3]["id"] in [e["id"] for e in inclusive.json()["data"]]


async def test_shorthands_and_with_filter(world: World) -> None:
    events = await _seed(world)
    http = world.api.http

    async def ids(params: dict[str, str]) -> set[str]:
        r = await http.get("/api/events", params=params, headers=ADMIN)
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()["data"]}

    assert await ids({"type": "agent.created"}) == {
        events[0]["id"],
        events[3]["id"],
        events[4]["id"],
    }
    assert await ids({"subject_id": "s1"}) == {events[0]["id"], events[2]["id"]}
    assert await ids({"user_id": "u2"}) == {events[1]["id"]}
    assert await ids({"parent_id": events[0]["id"]}) == {events[3]["id"]}
    assert await ids({"workspace_id": "other"}) == {events[4]["id"]}
    both = {"type": "agent.created", "filter": json.dumps({"channelId": {"eq": "market"}})}
    assert await ids(both) == {events[0]["id"], events[3]["id"]}
    relation = {"filter": json.dumps({"parent": {"subjectId": {"eq": "s1"}}})}
    assert await ids(relation) == {events[3]["id"]}
    narrowed = {"ids": f"{events[0]['id']}, {events[1]['id']},,"}
    assert await ids(narrowed) == {events[0]["id"], events[1]["id"]}
    reader_ids = await http.get(
        "/api/events", params={"ids": events[4]["id"]}, headers=bearer(world.tokens["reader"])
    )
    assert reader_ids.json()["data"] == []  # ids never bypass the scope


async def test_cursor_pagination_both_ways_and_order_by(world: World) -> None:
    events = await _seed(world)
    http = world.api.http
    order = json.dumps([{"createdAt": "asc"}, {"id": "asc"}])
    page1 = (
        await http.get("/api/events", params={"limit": 2, "orderBy": order}, headers=ADMIN)
    ).json()
    assert [e["id"] for e in page1["data"]] == sorted(e["id"] for e in events)[:2]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert page1["pageInfo"]["hasPreviousPage"] is False
    page2 = (
        await http.get(
            "/api/events",
            params={"limit": 2, "orderBy": order, "after": page1["pageInfo"]["endCursor"]},
            headers=ADMIN,
        )
    ).json()
    assert [e["id"] for e in page2["data"]] == sorted(e["id"] for e in events)[2:4]
    assert page2["pageInfo"]["hasPreviousPage"] is True
    back = (
        await http.get(
            "/api/events",
            params={"limit": 2, "orderBy": order, "before": page2["pageInfo"]["startCursor"]},
            headers=ADMIN,
        )
    ).json()
    assert [e["id"] for e in back["data"]] == [e["id"] for e in page1["data"]]
    # A cursor from another orderBy is a client error, not a wrong page.
    mixed = await http.get(
        "/api/events", params={"after": page1["pageInfo"]["endCursor"]}, headers=ADMIN
    )
    assert mixed.status_code == 400
    assert mixed.json()["error"]["path"] == "after"


async def test_get_one(world: World) -> None:
    events = await _seed(world)
    http = world.api.http
    r = await http.get(f"/api/events/{events[0]['id']}", headers=ADMIN)
    assert r.status_code == 200
    assert set(r.json()) == EVENT_KEYS
    assert r.json()["data"] == {"n": 1}
    hidden = await http.get(
        f"/api/events/{events[4]['id']}", headers=bearer(world.tokens["reader"])
    )
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "NOT_FOUND"
    assert (await http.get("/api/events/01NOPE", headers=ADMIN)).status_code == 404
    assert (await http.get(f"/api/events/{events[0]['id']}")).status_code == 401


async def test_a_32_kb_filter_on_the_query_string(world: World) -> None:
    events = await _seed(world)
    values = [f"type-{i:05d}-{'x' * 40}" for i in range(600)]
    leaves = [{"type": {"in": values[j : j + 100]}} for j in range(0, 600, 100)]
    raw = {"OR": [*leaves, {"id": {"eq": events[1]["id"]}}]}
    encoded = json.dumps(raw)
    assert len(encoded) > 32_000
    r = await world.api.http.get("/api/events", params={"filter": encoded}, headers=ADMIN)
    assert r.status_code == 200, r.text[:300]
    assert [e["id"] for e in r.json()["data"]] == [events[1]["id"]]


async def test_hostile_inputs_are_400_with_a_path(world: World) -> None:
    http = world.api.http
    cases = [
        ({"limit": "-1"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"filter": "{not json"}, "filter"),
        ({"filter": '{"AND": [{}, {"type": {"eqq": "a"}}]}'}, "filter.AND[1].type.eqq"),
        ({"filter": '{"nope": {"eq": 1}}'}, "filter.nope"),
        ({"filter": '{"type": {"eq": null}}'}, "filter.type.eq"),
        ({"filter": "[1, 2]"}, "filter"),
        ({"orderBy": '[{"createdAt": "sideways"}]'}, "orderBy[0].createdAt"),
        ({"orderBy": "{{"}, "orderBy"),
        ({"after": "not-a-cursor"}, "after"),
        ({"before": "bm9wZQ"}, "before"),
        ({"created_at_after": "yesterday"}, "created_at_after"),
        ({"created_at_before": "2025-13-45"}, "created_at_before"),
        ({"since": "soon"}, "since"),
        ({"ids": ",".join(f"id{i}" for i in range(101))}, "ids"),
    ]
    for params, path in cases:
        r = await http.get("/api/events", params=params, headers=ADMIN)
        assert r.status_code == 400, (params, r.text)
        error = r.json()["error"]
        assert error["code"] == "BAD_USER_INPUT"
        assert error["path"] == path, (params, error)


async def test_deep_filter_is_a_client_error(world: World) -> None:
    deep: dict[str, Any] = {"type": {"eq": "a"}}
    for _ in range(30):
        deep = {"NOT": deep}
    r = await world.api.http.get(
        "/api/events", params={"filter": orjson.dumps(deep).decode()}, headers=ADMIN
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "BAD_USER_INPUT"
