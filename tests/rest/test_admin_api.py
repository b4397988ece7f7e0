"""Seed 001: /v1/admin/events — list, get, replay (admin token)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.auth.principal import ADMIN as ADMIN_PRINCIPAL
from app.auth.principal import Principal
from app.events.delivery import Delivery, DeliveryKind, Staging
from app.events.replay import replay_events
from db.database import Database
from db.query.ast import Compare
from tests.rest.conftest import ADMIN, World, bearer


async def _seed(world: World) -> list[dict[str, Any]]:
    return await world.publish_many(
        "market",
        [
            {"type": "user:signed_up", "data": {"plan": "pro"}, "user_id": "user_abc123"},
            {"type": "user:signed_up", "data": {"plan": "free"}, "user_id": "user_xyz"},
            {"type": "user:logged_in", "data": {}, "user_id": "user_abc123"},
        ],
    )


async def test_auth(world: World) -> None:
    http = world.api.http
    assert (await http.get("/v1/admin/events")).status_code == 401
    r = await http.get("/v1/admin/events", headers=bearer(world.tokens["agent"]))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "FORBIDDEN"
    r = await http.post(
        "/v1/admin/events/replay", json={"eventIds": ["x"]}, headers=bearer(world.tokens["reader"])
    )
    assert r.status_code == 403
    assert (await http.get("/v1/admin/events/x", headers=bearer("bogus"))).status_code == 401


async def test_list_as_documented(world: World) -> None:
    events = await _seed(world)
    # curl -H "Authorization: Bearer ..." \
    #   ".../v1/admin/events?event=user:signed_up&from=2025-01-01T00:00:00Z"
    r = await world.api.http.get(
        "/v1/admin/events?event=user:signed_up&from=2025-01-01T00:00:00Z", headers=ADMIN
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2
    assert body["limit"] == 50
    assert body["offset"] == 0
    assert [e["id"] for e in body["events"]] == [events[1]["id"], events[0]["id"]]  # newest first
    assert body["events"][1] == {
        "id": events[0]["id"],
        "userId": "user_abc123",
        "event": "user:signed_up",
        "properties": {"plan": "pro"},
        "occurredAt": events[0]["created_at"],
    }


async def test_list_filters_paging_and_inclusive_bounds(world: World) -> None:
    events = await _seed(world)
    http = world.api.http
    r = (await http.get("/v1/admin/events?userId=user_abc123", headers=ADMIN)).json()
    assert {e["id"] for e in r["events"]} == {events[0]["id"], events[2]["id"]}
    page = (await http.get("/v1/admin/events?limit=1&offset=1", headers=ADMIN)).json()
    assert page["total"] == 3
    assert page["limit"] == 1
    assert page["offset"] == 1
    assert [e["id"] for e in page["events"]] == [events[1]["id"]]
    at = events[0]["created_at"]
    both = (await http.get("/v1/admin/events", params={"from": at, "to": at}, headers=ADMIN)).json()
    assert events[0]["id"] in {e["id"] for e in both["events"]}
    none = await http.get("/v1/admin/events", params={"to": "2000-01-01T00:00:00Z"}, headers=ADMIN)
    assert none.json()["total"] == 0


async def test_list_hostile_params(world: World) -> None:
    for query, path in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("from=nope", "from"),
        ("to=2025-99-99", "to"),
    ):
        r = await world.api.http.get(f"/v1/admin/events?{query}", headers=ADMIN)
        assert r.status_code == 400, query
        assert r.json()["error"]["path"] == path


async def test_get_one(world: World) -> None:
    events = await _seed(world)
    r = await world.api.http.get(f"/v1/admin/events/{events[0]['id']}", headers=ADMIN)
    assert r.status_code == 200
    assert r.json()["event"]["properties"] == {"plan": "pro"}
    missing = await world.api.http.get(
        "/v1/admin/events/550e8400-e29b-41d4-a716-446655440000", headers=ADMIN
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


async def test_replay_by_filter_as_documented(world: World) -> None:
    await _seed(world)
    r = await world.api.http.post(
        "/v1/admin/events/replay",
        headers={**ADMIN, "Content-Type": "application/json"},
        content=b'{\n "filter": { "event": "user:signed_up" },\n "limit": 100\n}',
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"replayed": 2, "errors": []}
    limited = await world.api.http.post(
        "/v1/admin/events/replay",
        json={"filter": {"userId": "user_abc123", "from": "2025-01-01T00:00:00Z"}, "limit": 1},
        headers=ADMIN,
    )
    assert limited.json() == {"replayed": 1, "errors": []}


async def test_replay_by_ids_reports_missing(world: World) -> None:
    events = await _seed(world)
    r = await world.api.http.post(
        "/v1/admin/events/replay",
        json={"eventIds": [events[0]["id"], "event-uuid-3", events[2]["id"]], "limit": 100},
        headers=ADMIN,
    )
    assert r.json() == {
        "replayed": 2,
        "errors": [{"eventId": "event-uuid-3", "error": "Event not found"}],
    }
    both = await world.api.http.post(
        "/v1/admin/events/replay",
        json={
            "eventIds": [events[0]["id"], events[2]["id"]],
            "filter": {"event": "user:signed_up"},
        },
        headers=ADMIN,
    )
    assert both.json() == {"replayed": 1, "errors": []}
    capped = await world.api.http.post(
        "/v1/admin/events/replay",
        json={"eventIds": [e["id"] for e in events], "limit": 2},
        headers=ADMIN,
    )
    assert capped.json()["replayed"] == 2


async def test_replay_bad_input(world: World) -> None:
    http = world.api.http
    for body, path in (
        ({}, "eventIds"),
        ({"limit": 5}, "eventIds"),
        ({"eventIds": ["a"], "limit": 0}, "limit"),
        ({"eventIds": "a"}, "eventIds"),
        ({"filter": {"from": "someday"}}, "filter.from"),
        ({"filter": {"evnt": "x"}}, "filter.evnt"),
    ):
        r = await http.post("/v1/admin/events/replay", json=body, headers=ADMIN)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["path"] == path, (body, r.json())
    r = await http.post(
        "/v1/admin/events/replay",
        content=b"not json",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert r.status_code == 400


async def test_replay_service_calls_the_delivery_hook(world: World, database_url: str) -> None:
    events = await _seed(world)
    delivered: list[str] = []
    staged: list[str] = []

    class Recorder:
        async def stage_in_statement(self, conn: Any, channel: Any, rows: Any) -> Staging:
            return Staging.TRANSACTION

        async def stage(self, conn: Any, rows: Sequence[Any], kind: DeliveryKind) -> None:
            assert kind is DeliveryKind.REPLAYED
            staged.extend(row["id"] for row in rows)

        async def committed(
            self, rows: Sequence[Any], kind: DeliveryKind, channel: Mapping[str, Any] | None
        ) -> None:
            assert kind is DeliveryKind.REPLAYED
            delivered.extend(row["id"] for row in rows)

    hook = Delivery((Recorder(),))

    db = Database(database_url)
    try:
        result = await replay_events(
            db=db,
            principal=ADMIN_PRINCIPAL,
            ids=None,
            filter=Compare("type", "eq", "user:signed_up"),
            limit=None,
            delivery=hook,
        )
        assert result.replayed == 2
        assert delivered == [events[0]["id"], events[1]["id"]]  # oldest first
        assert staged == delivered
        reader = Principal(kind="subscribe", channel_ids=frozenset({"secret"}))
        hidden = await world.publish("elsewhere", {"data": 1})
        result = await replay_events(
            db=db, principal=reader, ids=[hidden["id"]], filter=None, limit=None, delivery=hook
        )
        assert result.replayed == 0
        assert [(e.event_id, e.error) for e in result.errors] == [(hidden["id"], "Event not found")]
    finally:
        await db.dispose()


async def test_replay_answers_405_to_other_methods(world: World) -> None:
    response = await world.api.http.get("/v1/admin/events/replay", headers=ADMIN)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
