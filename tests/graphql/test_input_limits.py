"""Issue 7 items 1, 2 and 8 over GraphQL: literals, variables and request bodies past the
limits are BAD_USER_INPUT (or a 400 for a body that is not acceptable JSON), never a 500,
and a refused mutation stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.json_input import MAX_DEPTH, MAX_VALUE_DEPTH
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import publish, seed_basic
from tests.input_helpers import OVERFLOW, nested, with_overflow_date

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}", "content-type": "application/json"}
EVENTS = "query($f: EventFilter) { events(filter: $f) { nodes { id } } }"
PUBLISH = 'mutation($e: EventInput!) { publishEvent(channelId: "pub", event: $e) { id } }'


async def count(api: Api) -> int:
    data = await api.ok("{ events(first: 1) { totalCount } }")
    total: int = data["events"]["totalCount"]
    return total


async def error(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = await api.graphql(query, variables)
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


def events_where(literal: str) -> str:
    return "{ events(filter: " + literal + ") { nodes { id } } }"


def literal_not(depth: int) -> str:
    return "{NOT: " * depth + '{type: {eq: "a"}}' + "}" * depth


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        (events_where(literal_not(300)), "200 levels"),
        (
            events_where("{AND: [" * 150 + "{}" + "]}" * 150),
            "200 levels",
        ),
        (
            "{ events(filter: {data: {contains: %s}}) { nodes { id } } }"
            % ("{a: " * 300 + "1" + "}" * 300),
            "200 levels",
        ),
        (events_where(literal_not(20)), "10 levels"),
        (
            "{ events(filter: {data: {contains: %s}}) { nodes { id } } }"
            % ("{a: " * 40 + "1" + "}" * 40),
            f"{MAX_VALUE_DEPTH} levels",
        ),
        (
            '{ events(filter: {data: {path: {path: ["n"], gt: 180000000000000000000}}})'
            " { nodes { id } } }",
            "64 bits",
        ),
        (
            '{ events(filter: {data: {path: {path: ["n"], eq: NaN}}}) { nodes { id } } }',
            "NaN is not a JSON value",
        ),
        (
            '{ events(filter: {data: {path: {path: ["n"], lt: 1e400}}}) { nodes { id } } }',
            "Infinity",
        ),
        (events_where('{createdAt: {gt: "' + OVERFLOW + '"}}'), "1-9999"),
        ('{ events(filter: {type: {eq: "a\\u0000"}}) { nodes { id } } }', "NUL"),
        ('{ event(id: "a\\u0000") { id } }', "NUL"),
    ],
)
async def test_literals(api: Api, query: str, needle: str) -> None:
    await seed_basic(api)
    first = await error(api, query)
    assert first["extensions"]["code"] == "BAD_USER_INPUT", first
    assert needle in first["message"], first


@pytest.mark.parametrize(
    ("variables", "needle", "path"),
    [
        ({"f": nested(20, {}, "NOT")}, "10 levels", "filter" + ".NOT" * 10),
        ({"f": {"data": {"contains": nested(40, 1)}}}, f"{MAX_VALUE_DEPTH} levels", None),
        ({"f": {"createdAt": {"gt": OVERFLOW}}}, "1-9999", None),
        ({"f": {"type": {"eq": "x" * 10}, "id": {"in": ["a\x00"]}}}, "NUL", None),
    ],
)
async def test_variables(api: Api, variables: dict[str, Any], needle: str, path: str) -> None:
    await seed_basic(api)
    first = await error(api, EVENTS, variables)
    assert first["extensions"]["code"] == "BAD_USER_INPUT", first
    assert needle in first["message"], first
    assert first["extensions"].get("path") == path


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"f": ' + json.dumps(nested(300, {}, "NOT")) + "}", f"{MAX_DEPTH} levels"),
        ('{"f": {"data": {"path": {"path": ["n"], "eq": NaN}}}}', "NaN"),
        ('{"f": {"data": {"path": {"path": ["n"], "eq": Infinity}}}}', "Infinity"),
        ('{"f": {"data": {"path": {"path": ["n"], "gt": 180000000000000000000}}}}', "64 bits"),
        ('{"f": {"data": {"path": {"path": ["n"], "gt": 18446744073709551615}}}}', "64 bits"),
    ],
)
async def test_request_bodies_that_are_not_acceptable_json(api: Api, raw: str, needle: str) -> None:
    await seed_basic(api)
    body = '{"query": ' + json.dumps(EVENTS) + ', "variables": ' + raw + "}"
    r = await api.http.post("/graphql", content=body, headers=HEADERS)
    assert r.status_code == 400, r.text[:300]
    assert needle in r.text
    r = await api.http.get("/graphql", params={"query": EVENTS, "variables": raw}, headers=HEADERS)
    assert r.status_code == 400, r.text[:300]
    assert needle in r.text


@pytest.mark.parametrize(
    ("query", "variables", "needle", "path"),
    [
        (PUBLISH, {"e": {"data": nested(MAX_VALUE_DEPTH + 1, 1)}}, "32 levels", None),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: %s}) { id } }'
            % ("{a: " * 40 + "1" + "}" * 40),
            None,
            "32 levels",
            None,
        ),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: {n: NaN}}) { id } }',
            None,
            "NaN",
            None,
        ),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: [1e400]}) { id } }',
            None,
            "Infinity",
            None,
        ),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: {n: Infinity}}) { id } }',
            None,
            "Infinity",
            None,
        ),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: 1, meta: 9223372036854775808})'
            " { id } }",
            None,
            "64 bits",
            None,
        ),
        (
            'mutation { publishEvent(channelId: "pub", event: {data: 1, subjectId: "a\\u0000"})'
            " { id } }",
            None,
            "NUL",
            None,
        ),
        (
            PUBLISH,
            {"e": {"data": 1, "subjectId": "s" * 7_000_000}},
            "200 characters",
            "event.subjectId",
        ),
        (PUBLISH, {"e": {"data": 1, "userId": "u" * 201}}, "200 characters", "event.userId"),
        (PUBLISH, {"e": {"data": 1, "parentId": "p" * 201}}, "200 characters", "event.parentId"),
        (
            'mutation { createWorkspace(input: {id: "zz", name: "a\\u0000"}) { id } }',
            None,
            "NUL",
            None,
        ),
        (
            'mutation { createToken(input: {name: "t", kind: publish, publisherName: "a\\u0000"})'
            " { secret } }",
            None,
            "NUL",
            None,
        ),
    ],
)
async def test_refused_mutations_store_nothing(
    api: Api, query: str, variables: dict[str, Any] | None, needle: str, path: str | None
) -> None:
    await seed_basic(api)
    before = await count(api)
    first = await error(api, query, variables)
    assert first["extensions"]["code"] == "BAD_USER_INPUT", first
    assert needle in first["message"], first
    assert first["extensions"].get("path") == path
    assert await count(api) == before
    workspaces = await api.ok("{ workspaces { nodes { id } } }")
    assert [w["id"] for w in workspaces["workspaces"]["nodes"]] == ["w"]


async def test_values_at_the_limits_are_stored_as_sent(api: Api) -> None:
    await seed_basic(api)
    data = {"deep": nested(MAX_VALUE_DEPTH - 2, [-(2**63), 2**63 - 1, 1.5e300, "\\u0000"])}
    [event] = await publish(api, "pub", {"data": data, "meta": data, "subjectId": "s" * 200})
    assert event["data"] == data
    assert event["meta"] == data
    assert event["subjectId"] == "s" * 200


async def test_crafted_cursor_is_bad_user_input_on_both_paths(api: Api) -> None:
    await seed_basic(api)
    await publish(api, "pub", {"data": 1}, {"data": 2})
    query = "query($a: String) { events(first: 1, after: $a) { nodes { id } } }"
    page = await api.ok("{ events(first: 1) { pageInfo { endCursor } } }")
    cursor = page["events"]["pageInfo"]["endCursor"]
    crafted = with_overflow_date(cursor)
    first = await error(api, query, {"a": crafted})  # the fast path's shape
    assert first["extensions"]["code"] == "BAD_USER_INPUT", first
    aliased = (
        "query($a: String) { e: events(first: 1, after: $a) { nodes { ... on Event { id } } } }"
    )
    first = await error(api, aliased, {"a": crafted})  # Strawberry's
    assert first["extensions"]["code"] == "BAD_USER_INPUT", first


async def test_deep_body_with_a_nul_is_refused_not_a_recursion_error(api: Api) -> None:
    variables = '{"f": ' + "[" * 900 + '"\\u0000"' + "]" * 900 + "}"
    body = '{"query": ' + json.dumps(EVENTS) + ', "variables": ' + variables + "}"
    r = await api.http.post("/graphql", content=body, headers=HEADERS)
    # The NUL guard in front of the fast path answers it in the GraphQL shape.
    assert r.status_code == 200, r.text[:300]
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in r.json()["errors"][0]["message"]
