"""The request cost budget (page size times filter cost, summed over every connection after
fragment expansion) refuses expensive requests before any statement runs."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from app.events.cost import filter_cost
from db.query.ast import TRUE, And, Compare, JsonDoc, JsonPath, Not, Or, Related
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.fast_paths import served
from tests.graphql.helpers import make_channel, make_workspace, publish

AUTH = {"Authorization": f"Bearer {ADMIN_SECRET}"}


def ilikes(n: int) -> dict[str, Any]:
    return {"OR": [{"type": {"ilike": f"%x{i}%"}} for i in range(n)]}


def contains(n: int) -> dict[str, Any]:
    return {"OR": [{"data": {"contains": {"k": i}}} for i in range(n)]}


def test_filter_cost_weights() -> None:
    assert filter_cost(TRUE) == 1
    assert filter_cost(Compare("type", "eq", "a")) == 2
    assert filter_cost(Compare("type", "ilike", "%a%")) == 6
    assert filter_cost(Compare("type", "in", tuple(str(i) for i in range(250)))) == 4
    assert (
        filter_cost(Or((JsonDoc("data", "contains", {}), JsonPath("meta", ("a",), "eq", 1)))) == 21
    )
    assert filter_cost(Not(And((Compare("id", "eq", "x"),)))) == 2
    assert filter_cost(Related("parent", Compare("type", "like", "a%"))) == 11


async def _gql(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=AUTH
    )
    body: dict[str, Any] = response.json()
    return body


def _refused(body: dict[str, Any]) -> None:
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "exceeds the budget of 50000" in error["message"]


PAGE = "query($f: EventFilter, $n: Int) { events(filter: $f, first: $n) { nodes { id } } }"


async def test_graphql_page_times_filter(api: Api) -> None:
    # 199 ilike: 996 per row; 50 rows fit the budget, 100 do not.
    _refused(await _gql(api, PAGE, {"f": ilikes(199), "n": 100}))
    assert (await _gql(api, PAGE, {"f": ilikes(199), "n": 50}))["data"]["events"]["nodes"] == []
    _refused(await _gql(api, PAGE, {"f": contains(199), "n": 30}))
    assert "errors" not in await _gql(api, PAGE, {"f": contains(199), "n": 25})


async def test_graphql_default_page_is_counted(api: Api) -> None:
    query = "query($f: EventFilter) { events(filter: $f) { nodes { id } } }"
    _refused(await _gql(api, query, {"f": ilikes(199)}))


ALIASES = """
query($f: EventFilter) { ...Q }
fragment Q on Query { a: events(filter: $f, first: 20) { ...Ids } b: events(filter: $f, first: 20)
  { ...Ids } c: events(filter: $f, first: 20) { ...Ids } }
fragment Ids on EventConnection { nodes { id } }
"""


async def test_graphql_aliases_are_summed_after_fragment_expansion(api: Api) -> None:
    # One alias costs 20 * 996 = 19,920; three cost 59,760. With 150: 3 * 20 * 751 = 45,060.
    _refused(await _gql(api, ALIASES, {"f": ilikes(199)}))
    assert "errors" not in await _gql(api, ALIASES, {"f": ilikes(150)})


async def test_small_filtered_pages_are_charged_a_scan(api: Api) -> None:
    """`first: 1` under a condition nothing matches scans every row: a filtered top-level
    page is charged at least 20 rows. One alias of 199 data.contains costs 20 * 1,991 =
    39,820; two cost 79,640 (at one row each they would have cost 3,982)."""
    two = "query($f: EventFilter) { a: events(filter: $f, first: 1) { nodes { id } }"
    two += " b: events(filter: $f, first: 1) { nodes { id } } }"
    _refused(await _gql(api, two, {"f": contains(199)}))
    assert "errors" not in await _gql(api, PAGE, {"f": contains(199), "n": 1})
    response = await api.http.get(
        "/api/events",
        params={"limit": "1", "filter": json.dumps(contains(199))},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    # An unfiltered page costs its rows only: 30 aliases of first: 100 are 3,000.
    many = " ".join(f"a{i}: events(first: 100) {{ nodes {{ id }} }}" for i in range(30))
    assert "errors" not in await _gql(api, f"{{ {many} }}", {})


async def test_graphql_nested_connections_multiply(api: Api) -> None:
    # 100 parents * (1 + 2 children * (1 + 5 per ilike)): 40 ilikes fit, 60 do not.
    query = """query($f: EventFilter) { events(first: 100) { nodes { id
        children(filter: $f, first: 2) { nodes { id } } } } }"""
    _refused(await _gql(api, query, {"f": ilikes(60)}))
    assert "errors" not in await _gql(api, query, {"f": ilikes(40)})


@pytest.mark.parametrize("route", ["/api/events", "/api/events/export.ndjson"])
async def test_rest_filters_are_budgeted(api: Api, route: str) -> None:
    params = {"filter": orjson.dumps(ilikes(199)).decode()}
    response = await api.http.get(route, params=params, headers=AUTH)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["path"] == "filter"
    assert "budget of 50000" in error["message"]
    params["filter"] = orjson.dumps(ilikes(90)).decode()
    assert (await api.http.get(route, params=params, headers=AUTH)).status_code == 200


async def test_rest_limit_is_part_of_the_cost(api: Api) -> None:
    params = {"filter": orjson.dumps(ilikes(199)).decode(), "limit": "40"}
    assert (await api.http.get("/api/events", params=params, headers=AUTH)).status_code == 200


async def test_each_filter_variable_is_costed_and_applied_on_its_own(api: Api) -> None:
    """The cost walk and the fast path share work between aliases passing one variable;
    aliases passing different ones must each get their own cost and their own filter."""
    await make_workspace(api, "w")
    await make_channel(api, "c", "w")
    await publish(api, "c", {"type": "a", "data": 1}, {"type": "b", "data": 2})
    before = served("graphql")
    query = """query($a: EventFilter, $b: EventFilter) {
      x: events(filter: $a, first: 5) { nodes { type } }
      y: events(filter: $b, first: 5) { nodes { type } } }"""
    body = await _gql(api, query, {"a": {"type": {"eq": "a"}}, "b": {"type": {"eq": "b"}}})
    assert body["data"] == {"x": {"nodes": [{"type": "a"}]}, "y": {"nodes": [{"type": "b"}]}}
    assert served("graphql") == before + 1
    # 20 * 1 for x, 2 * 39,820 for y and z: refused only if each is costed on its own.
    three = query.replace(
        "y: events(filter: $b, first: 5) { nodes { type } } }",
        "y: events(filter: $b, first: 5) { nodes { type } }"
        " z: events(filter: $b, first: 5) { nodes { type } } }",
    )
    _refused(await _gql(api, three, {"a": {}, "b": contains(199)}))
