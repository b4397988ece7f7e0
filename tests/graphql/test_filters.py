"""Filters, ordering and pagination over HTTP against the real schema (both databases)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.app import Api
from tests.graphql.helpers import publish, seed_basic

IDS_QUERY = (
    "query($f: EventFilter, $o: [EventOrderBy!])"
    " { events(filter: $f, orderBy: $o) { nodes { id } } }"
)


@pytest.fixture
async def events(api: Api) -> list[dict[str, Any]]:
    await seed_basic(api)
    return await publish(
        api,
        "pub",
        {"type": "order.created", "data": {"total": 10, "tags": ["a"]}, "userId": "u1"},
        {"type": "order.paid", "data": {"total": 2.5, "nested": {"ok": True}}, "userId": "u2"},
        {"type": "Order.refunded", "data": {"total": "x"}, "meta": {"src": "api"}},
        {"data": {"total": None}, "subjectId": "s1"},
    )


async def ids(api: Api, filter: Any = None, order: Any = None) -> list[str]:
    data = await api.ok(IDS_QUERY, {"f": filter, "o": order})
    return [node["id"] for node in data["events"]["nodes"]]


def pick(events: list[dict[str, Any]], *indexes: int) -> set[str]:
    return {events[i]["id"] for i in indexes}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({}, (0, 1, 2, 3)),
        ({"type": {"eq": "order.paid"}}, (1,)),
        ({"type": {"neq": "order.paid"}}, (0, 2, 3)),
        ({"type": {"in": ["order.paid", "nope"]}}, (1,)),
        ({"type": {"in": []}}, ()),
        ({"type": {"notIn": []}}, (0, 1, 2, 3)),
        ({"type": {"notIn": ["order.paid"]}}, (0, 2, 3)),
        ({"type": {"isNull": True}}, (3,)),
        ({"type": {"startsWith": "order."}}, (0, 1)),
        ({"type": {"like": "order.%"}}, (0, 1)),
        ({"type": {"ilike": "ORDER.%"}}, (0, 1, 2)),
        ({"type": {"endsWith": "paid"}}, (1,)),
        ({"type": {"contains": "der.r"}}, (2,)),
        ({"type": {"gt": "order.created"}}, (1,)),
        ({"type": {"lt": "order"}}, (2,)),
        ({"userId": {"eq": "u1"}}, (0,)),
        ({"subjectId": {"isNull": False}}, (3,)),
        ({"AND": []}, (0, 1, 2, 3)),
        ({"OR": []}, ()),
        ({"OR": [{"userId": {"eq": "u1"}}, {"subjectId": {"eq": "s1"}}]}, (0, 3)),
        ({"NOT": {"userId": {"eq": "u1"}}}, (1, 2, 3)),
        (
            {"AND": [{"type": {"startsWith": "order"}}, {"NOT": {"type": {"eq": "order.paid"}}}]},
            (0,),
        ),
        ({"data": {"path": {"path": ["total"], "gt": 5}}}, (0,)),
        ({"data": {"path": {"path": ["total"], "lte": 10}}}, (0, 1)),
        ({"data": {"path": {"path": ["total"], "eq": None}}}, (3,)),
        ({"data": {"path": {"path": ["total"], "exists": True}}}, (0, 1, 2, 3)),
        ({"data": {"path": {"path": ["tags", "0"], "eq": "a"}}}, (0,)),
        ({"data": {"path": {"path": ["total"], "in": ["x", 10]}}}, (0, 2)),
        ({"data": {"contains": {"nested": {"ok": True}}}}, (1,)),
        ({"data": {"hasKey": "nested"}}, (1,)),
        ({"data": {"hasAnyKeys": []}}, ()),
        ({"data": {"hasAllKeys": ["total", "tags"]}}, (0,)),
        ({"meta": {"isNull": True}}, (0, 1, 3)),
        ({"channel": {"id": {"eq": "pub"}}}, (0, 1, 2, 3)),
        ({"channel": {"private": {"eq": True}}}, ()),
        ({"workspace": {"name": {"eq": "w"}}}, (0, 1, 2, 3)),
        ({"channelId": {"eq": "priv"}}, ()),
    ],
)
async def test_filter_families(
    api: Api, events: list[dict[str, Any]], filter: dict[str, Any], expected: tuple[int, ...]
) -> None:
    assert set(await ids(api, filter)) == pick(events, *expected)


async def test_created_at_filter_and_literal_argument(
    api: Api, events: list[dict[str, Any]]
) -> None:
    first = events[0]["createdAt"]
    assert set(await ids(api, {"createdAt": {"gte": first}})) == pick(events, 0, 1, 2, 3)
    assert await ids(api, {"createdAt": {"lt": first}}) == []
    data = await api.ok(
        '{ events(filter: {type: {eq: "order.paid"}, createdAt: {isNull: false}})'
        " { nodes { id } } }"
    )
    assert [n["id"] for n in data["events"]["nodes"]] == [events[1]["id"]]


@pytest.mark.parametrize(
    ("filter", "path"),
    [
        ({"type": {"eq": None}}, "filter.type.eq"),
        ({"AND": [{}, {"type": {"eq": None}}]}, "filter.AND[1].type.eq"),
        ({"AND": None}, "filter.AND"),
        ({"OR": None}, "filter.OR"),
        ({"NOT": None}, "filter.NOT"),
        ({"parent": None}, "filter.parent"),
        ({"children": {"some": None}}, "filter.children.some"),
        (
            {"channel": {"events": {"every": {"id": {"in": None}}}}},
            "filter.channel.events.every.id.in",
        ),
        ({"data": {"path": {"path": ["a"], "neq": None}}}, "filter.data.path.neq"),
        ({"data": {"contains": None}}, "filter.data.contains"),
        ({"userId": {"isNull": None}}, "filter.userId.isNull"),
    ],
)
async def test_explicit_null_is_an_error_naming_its_path(
    api: Api, filter: dict[str, Any], path: str
) -> None:
    body = await api.graphql(IDS_QUERY, {"f": filter})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["path"] == path
    assert path in error["message"]


async def test_explicit_null_in_a_literal_too(api: Api) -> None:
    body = await api.graphql("{ events(filter: {OR: [{type: {eq: null}}]}) { nodes { id } } }")
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "path": "filter.OR[0].type.eq",
    }


async def test_limits(api: Api) -> None:
    deep: dict[str, Any] = {}
    for _ in range(10):
        deep = {"NOT": deep}
    body = await api.graphql(IDS_QUERY, {"f": deep})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["path"].count("NOT") == 10
    wide = {"AND": [{"type": {"eq": str(i)}} for i in range(201)]}
    body = await api.graphql(IDS_QUERY, {"f": wide})
    assert body["errors"][0]["extensions"]["path"] == "filter.AND[200].type.eq"
    body = await api.graphql(IDS_QUERY, {"f": {"id": {"in": [str(i) for i in range(501)]}}})
    assert body["errors"][0]["extensions"]["path"] == "filter.id.in"
    body = await api.graphql(
        "query($i: [ID!]) { events(ids: $i) { nodes { id } } }", {"i": [str(i) for i in range(101)]}
    )
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "path": "ids",
    }


async def test_unknown_operator_and_wrong_type_are_client_errors(api: Api) -> None:
    body = await api.graphql(IDS_QUERY, {"f": {"AND": [{}, {"type": {"eqq": "x"}}]}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "AND[1].type" in body["errors"][0]["message"]
    assert await api.error_code(IDS_QUERY, {"f": {"type": {"eq": 5}}}) == "BAD_USER_INPUT"
    assert (
        await api.error_code('{ events(filter: {type: {eqq: "x"}}) { nodes { id } } }')
        == "GRAPHQL_VALIDATION_FAILED"
    )


async def test_order_by_directions_and_multiple_keys(
    api: Api, events: list[dict[str, Any]]
) -> None:
    e = [event["id"] for event in events]
    assert await ids(api, order=[{"id": "asc"}]) == e
    assert await ids(api, order=[{"id": "desc"}]) == e[::-1]
    # asc = nulls last, desc = nulls first, explicit placements override.
    assert (await ids(api, order=[{"type": "asc"}]))[-1] == e[3]
    assert (await ids(api, order=[{"type": "desc"}]))[0] == e[3]
    assert (await ids(api, order=[{"type": "asc_nulls_first"}]))[0] == e[3]
    assert (await ids(api, order=[{"type": "desc_nulls_last"}]))[-1] == e[3]
    assert await ids(api, order=[{"type": "asc_nulls_last"}]) == [e[2], e[0], e[1], e[3]]
    assert await ids(api, order=[{"userId": "desc_nulls_last"}, {"id": "desc"}]) == [
        e[1],
        e[0],
        e[3],
        e[2],
    ]
    # Default order: createdAt desc, id desc.
    assert await ids(api) == e[::-1]


async def test_order_by_needs_exactly_one_field(api: Api) -> None:
    assert (
        await api.error_code(IDS_QUERY, {"o": [{"id": "asc", "type": "asc"}]}) == "BAD_USER_INPUT"
    )
    assert await api.error_code(IDS_QUERY, {"o": [{}]}) == "BAD_USER_INPUT"


PAGE = """query($f: Int, $a: String, $l: Int, $b: String, $o: [EventOrderBy!]) {
  events(first: $f, after: $a, last: $l, before: $b, orderBy: $o) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def page(api: Api, **variables: Any) -> tuple[list[str], dict[str, Any]]:
    data = (await api.ok(PAGE, variables))["events"]
    info = data["pageInfo"]
    if data["edges"]:
        assert info["startCursor"] == data["edges"][0]["cursor"]
        assert info["endCursor"] == data["edges"][-1]["cursor"]
    return [edge["node"]["id"] for edge in data["edges"]], info


async def test_forward_and_backward_pagination(api: Api, events: list[dict[str, Any]]) -> None:
    e = [event["id"] for event in events]
    order = [{"id": "asc"}]
    got, info = await page(api, f=2, o=order)
    assert got == e[:2]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    got, info = await page(api, f=2, a=info["endCursor"], o=order)
    assert got == e[2:]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (False, True)
    got, info = await page(api, l=3, b=info["startCursor"], o=order)
    assert got == e[:2]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    got, info = await page(api, l=1, o=order)
    assert got == e[3:]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (False, True)
    got, info = await page(api, f=0, o=order)
    assert got == []
    assert info["startCursor"] is None


async def test_cursor_bound_to_its_order(api: Api, events: list[dict[str, Any]]) -> None:
    _, info = await page(api, f=1, o=[{"id": "asc"}])
    body = await api.graphql(PAGE, {"f": 1, "a": info["endCursor"], "o": [{"type": "asc"}]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.error_code(PAGE, {"f": 1, "l": 1}) == "BAD_USER_INPUT"
    assert await api.error_code(PAGE, {"a": "garbage"}) == "BAD_USER_INPUT"


async def test_total_count_ignores_paging(api: Api, events: list[dict[str, Any]]) -> None:
    data = await api.ok(
        '{ events(first: 1, filter: {type: {startsWith: "order"}}) { totalCount nodes { id } } }'
    )
    assert data["events"]["totalCount"] == 2
    assert len(data["events"]["nodes"]) == 1
