"""Issue 7 items 1, 2 and 8 over REST: nesting, non-JSON numbers, date overflow, crafted
cursors, 64-bit integers and text lengths are 400s that name the fault and store nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.json_input import MAX_DEPTH, MAX_VALUE_DEPTH
from tests.input_helpers import OVERFLOW, nested, with_overflow_date
from tests.rest.conftest import ADMIN, World


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # orjson refuses to write past 254 levels


def and_chain(depth: int) -> Any:
    value: Any = {"type": {"eq": "a"}}
    for _ in range(depth):
        value = {"AND": [value]}
    return value


def shortened(path: str | None) -> str | None:
    """Paths past 200 characters are cut (a key may be megabytes long)."""
    return path if path is None or len(path) <= 200 else path[:200] + "..."


async def stored(world: World) -> int:
    r = await world.api.http.get("/api/events", params={"limit": 1}, headers=ADMIN)
    assert r.status_code == 200, r.text
    total: int = r.json()["pageInfo"]["total"]
    return total


def assert_400(r: Any, path: str | None, *needles: str) -> None:
    assert r.status_code == 400, r.text[:500]
    error = r.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error.get("path") == shortened(path), error
    for needle in needles:
        assert needle in error["message"], error


@pytest.mark.parametrize(
    ("filter_", "path", "needle"),
    [
        (nested(300, {"type": {"eq": "a"}}, "NOT"), "filter" + ".NOT" * MAX_DEPTH, "64 levels"),
        (and_chain(300), "filter" + ".AND[0]" * (MAX_DEPTH // 2), "64 levels"),
        (
            {"data": {"contains": nested(300, 1)}},
            "filter.data.contains" + ".a" * (MAX_DEPTH - 2),
            "64 levels",
        ),
        (nested(20, {"type": {"eq": "a"}}, "NOT"), "filter" + ".NOT" * 10, "10 levels"),
        ({"data": {"contains": nested(40, 1)}}, "filter.data.contains", "32 levels"),
        (
            {"data": {"path": {"path": ["n"], "gt": 18446744073709551615}}},
            "filter.data.path.gt",
            "64 bits",
        ),
    ],
)
async def test_filter_limits(world: World, filter_: Any, path: str, needle: str) -> None:
    raw = json.dumps(filter_)
    r = await world.api.http.get("/api/events", params={"filter": raw}, headers=ADMIN)
    assert_400(r, path, needle)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"data": {"path": {"path": ["n"], "eq": NaN}}}', "NaN"),
        ('{"data": {"path": {"path": ["n"], "gt": -Infinity}}}', "Infinity"),
        ('{"data": {"path": {"path": ["n"], "gt": 1e999}}}', "infinity"),
        ('{"data": {"path": {"path": ["n"], "gt": 180000000000000000000}}}', "64 bits"),
    ],
)
async def test_filter_numbers(world: World, raw: str, needle: str) -> None:
    for name in ("/api/events", "/api/events/export.ndjson"):
        r = await world.api.http.get(name, params={"filter": raw}, headers=ADMIN)
        assert_400(r, "filter", needle)
    r = await world.api.http.get("/api/events", params={"orderBy": raw}, headers=ADMIN)
    assert_400(r, "orderBy", needle)


async def test_date_overflow_names_the_parameter(world: World) -> None:
    http = world.api.http
    for url, name in (
        ("/api/events", "since"),
        ("/api/events", "created_at_after"),
        ("/api/events/export.ndjson", "since"),
        ("/api/v1/channels/market/events", "since"),
        ("/v1/admin/events", "from"),
        ("/v1/admin/events", "to"),
    ):
        r = await http.get(url, params={name: OVERFLOW}, headers=ADMIN)
        assert_400(r, name, "outside the years 1-9999")
    r = await http.get("/api/events", params={"since": "9999-12-31T23:00:00-14:00"}, headers=ADMIN)
    assert_400(r, "since", "outside the years 1-9999")
    r = await http.post(
        "/v1/admin/events/replay", json={"filter": {"from": OVERFLOW}}, headers=ADMIN
    )
    assert_400(r, "filter.from", "outside the years 1-9999")


async def test_crafted_cursor_with_date_overflow(world: World) -> None:
    await world.publish_many("market", [{"data": 1}, {"data": 2}])
    r = await world.api.http.get("/api/events", params={"limit": 1}, headers=ADMIN)
    crafted = with_overflow_date(r.json()["pageInfo"]["endCursor"])
    for name in ("after", "before"):
        r = await world.api.http.get("/api/events", params={name: crafted}, headers=ADMIN)
        assert_400(r, name)


PUBLISH = "/api/v1/channels/market/events"
JSON_HEADERS = {**ADMIN, "content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "path", "needle"),
    [
        (b'{"data": {"n": NaN}}', None, "NaN, Infinity and -Infinity are not JSON"),
        (b'{"data": 1, "meta": {"n": Infinity}}', None, "NaN, Infinity"),
        (b'{"events": [{"data": 1}, {"data": -Infinity}]}', None, "NaN, Infinity"),
        (b'{"data": 180000000000000000000}', None, "64 bits"),
        (b'{"data": [1, 9223372036854775808]}', "data[1]", "64 bits"),
        (dumps({"data": nested(300, 1)}), "data" + ".a" * (MAX_DEPTH - 1), "64 levels"),
        (
            dumps({"data": nested(MAX_VALUE_DEPTH + 1, 1)}),
            "data" + ".a" * MAX_VALUE_DEPTH,
            "32 levels",
        ),
        (
            dumps({"data": 1, "meta": nested(MAX_VALUE_DEPTH + 1, 1)}),
            "meta" + ".a" * MAX_VALUE_DEPTH,
            "32 levels",
        ),
        (
            dumps({"events": [{"data": 1}, {"data": nested(MAX_VALUE_DEPTH + 1, 1)}]}),
            "events[1].data" + ".a" * MAX_VALUE_DEPTH,
            "32 levels",
        ),
        (b'{"data": {"k": "a\\u0000"}}', "data.k", "NUL"),
        (dumps({"data": 1, "subject_id": "s" * 201}), "subjectId", "200 characters"),
        (dumps({"data": 1, "user_id": "u" * 7_000_000}), "userId", "200 characters"),
        (dumps({"data": 1, "parent_id": "p" * 201}), "parentId", "200 characters"),
        (
            dumps({"events": [{"data": 1}, {"data": 1, "subject_id": "s" * 201}]}),
            "events[1].subjectId",
            "200 characters",
        ),
    ],
)
async def test_publish_refusals_store_nothing(
    world: World, body: bytes, path: str | None, needle: str
) -> None:
    before = await stored(world)
    r = await world.api.http.post(PUBLISH, content=body, headers=JSON_HEADERS)
    assert_400(r, path, needle)
    assert await stored(world) == before


async def test_publish_at_the_limits_is_stored_as_sent(world: World) -> None:
    data = {"deep": nested(MAX_VALUE_DEPTH - 2, [-(2**63), 2**63 - 1, 1.5e300, "\\u0000"])}
    event = await world.publish(
        "market", {"data": data, "meta": data, "subject_id": "s" * 200, "user_id": "u" * 200}
    )
    r = await world.api.http.get(f"/api/events/{event['id']}", headers=ADMIN)
    assert r.json()["data"] == data
    assert r.json()["meta"] == data
    assert r.json()["subjectId"] == "s" * 200


async def test_every_json_body_goes_through_the_intake(world: World) -> None:
    http = world.api.http
    deep = b'{"name": ' + b"[" * 300 + b"]" * 300 + b"}"
    for url in ("/api/v1/workspaces", "/api/v1/channels", "/api/v1/tokens"):
        r = await http.post(url, content=deep, headers=JSON_HEADERS)
        assert_400(r, "name" + "[0]" * (MAX_DEPTH - 1), "64 levels")
    r = await http.post("/v1/admin/events/replay", content=b'{"limit": NaN}', headers=JSON_HEADERS)
    assert_400(r, None, "NaN")
    r = await http.post(
        "/api/v1/tokens",
        json={"name": "t", "kind": "publish", "publisherName": "n" * 201},
        headers=ADMIN,
    )
    assert r.status_code == 400
    assert "200 characters" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "digits", ["9223372036854775808", "9999999999999999999", "\u00b2", "\u0661"]
)
async def test_crafted_feed_cursor(world: World, digits: str) -> None:
    from app.events.feed import encode_cursor

    prefix = base64.urlsafe_b64decode(encode_cursor(0) + "==").decode()[:-1]
    crafted = base64.urlsafe_b64encode(f"{prefix}{digits}".encode()).decode().rstrip("=")
    r = await world.api.http.get(
        "/api/v1/channels/market/events", params={"cursor": crafted}, headers=ADMIN
    )
    assert_400(r, "cursor")
