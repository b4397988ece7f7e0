"""The compiled fast path answers exactly what Strawberry's executor answers."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.tokens import authenticate
from graphql_schema.context import Context
from graphql_schema.fast_path.middleware import PlanCache
from graphql_schema.schema import schema
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import EVENT_FIELDS, make_token, publish, seed_basic

PLANNED = [
    (
        f"{{ events(first: 3) {{ nodes {{ {EVENT_FIELDS} }}"
        " pageInfo { hasNextPage endCursor } } }",
        {},
    ),
    (
        """query Q($f: EventFilter, $o: [EventOrderBy!]) {
          a: events(filter: $f, orderBy: $o, first: 2) {
            __typename totalCount
            edges { __typename cursor node { __typename i: id createdAt data } }
            pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
          }
          b: events(last: 2) { nodes { id parent { id type createdAt } } }
        }""",
        {"f": {"type": {"in": ["a", "b"]}}, "o": [{"type": "asc_nulls_first"}, {"id": "desc"}]},
    ),
    (
        """{ events(first: 5, orderBy: [{createdAt: desc_nulls_last}, {id: asc}]) {
              nodes { id channel { id name private strictTypes schemas createdAt workspaceId }
                      workspace { id name createdAt } meta }
              totalCount } }""",
        {},
    ),
]
NOT_PLANNED = [
    "{ events { nodes { ...F } } } fragment F on Event { id }",
    "{ events { nodes { id children { totalCount } } } }",
    '{ event(id: "x") { id } }',
    "{ events { nodes { id @include(if: true) } } }",
]


def _app_state(api: Api) -> Any:
    return api.app.state.eventgraph


async def _strawberry(api: Api, query: str, variables: dict[str, Any], token: str) -> Any:
    state = _app_state(api)
    principal = await authenticate(db=state.db, settings=state.settings, secret=token)
    context = Context(
        settings=state.settings,
        db=state.db,
        delivery=state.delivery,
        hub=state.hub,
        principal=principal,
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def _seed(api: Api) -> str:
    await seed_basic(api)
    [root] = await publish(api, "pub", {"type": "a", "data": {"n": 1}, "meta": {"m": True}})
    await publish(api, "priv", {"type": "b", "data": [1, 2], "parentId": root["id"]})
    await publish(
        api, "pub", *({"type": t, "data": i, "parentId": root["id"]} for i, t in enumerate("ab"))
    )
    await publish(api, "pub", {"data": "x"})
    return await make_token(api, kind="subscribe", channelIds=[])


def test_plans_cover_the_hot_shapes_and_nothing_else() -> None:
    plans = PlanCache()
    for query, _ in PLANNED:
        assert plans.get(query, None) is not None, query
    for query in NOT_PLANNED:
        assert plans.get(query, None) is None, query


@pytest.mark.parametrize(("query", "variables"), PLANNED)
async def test_fast_path_equals_strawberry(api: Api, query: str, variables: dict[str, Any]) -> None:
    anonymous_scope = await _seed(api)
    for token in (ADMIN_SECRET, anonymous_scope):
        fast = await api.ok(query, variables, token=token)
        assert fast == await _strawberry(api, query, variables, token)


async def test_second_page_and_errors_match(api: Api) -> None:
    await _seed(api)
    query = (
        "query($a: String) { events(first: 2, after: $a) {"
        " nodes { id } pageInfo { endCursor hasPreviousPage } } }"
    )
    first = await api.ok(query, {"a": None})
    cursor = first["events"]["pageInfo"]["endCursor"]
    second = await api.ok(query, {"a": cursor})
    assert second == await _strawberry(api, query, {"a": cursor}, ADMIN_SECRET)
    assert second["events"]["pageInfo"]["hasPreviousPage"] is True
    # A cursor bound to another order, and undeclared variable types, answer as Strawberry does.
    other = (
        "query($a: String) { events(first: 2, after: $a, orderBy: [{type: asc}]) { nodes { id } } }"
    )
    assert await api.error_code(other, {"a": cursor}) == "BAD_USER_INPUT"
    assert await api.error_code(query, {"a": 5}) == "BAD_USER_INPUT"
    assert await api.error_code(query, {"a": "garbage"}) == "BAD_USER_INPUT"


AWKWARD_JSON = [
    {"nested": {"ü": ["é", None, True, False, {"": 0}]}, "n": -0.5},
    [],
    {},
    "5",
    "",
    12345678901234567,
    1e2,
    2.5,
    0,
    False,
    '{"looks": "like json"}',
]


async def test_json_payloads_pass_through_unchanged(api: Api) -> None:
    await seed_basic(api)
    await publish(api, "pub", *({"data": value, "meta": value} for value in AWKWARD_JSON))
    query = "{ events(first: 20, orderBy: [{id: asc}]) { nodes { data meta } } }"
    fast = await api.ok(query)
    assert fast == await _strawberry(api, query, {}, ADMIN_SECRET)
    assert [node["data"] for node in fast["events"]["nodes"]] == AWKWARD_JSON


async def test_filters_equal_in_python_but_not_in_json_stay_apart(api: Api) -> None:
    """``True == 1`` in Python; the compiled-filter and argument caches must not merge them."""
    await seed_basic(api)
    one, true = await publish(api, "pub", {"data": {"v": 1}}, {"data": {"v": True}})
    query = (
        'query($v: JSON) { events(filter: {data: {path: {path: ["v"], eq: $v}}}) { nodes { id } } }'
    )
    for value, event in ((1, one), (True, true), (1, one), (True, true)):
        data = await api.ok(query, {"v": value})
        assert [node["id"] for node in data["events"]["nodes"]] == [event["id"]]
    literal = '{ events(filter: {data: {path: {path: ["v"], eq: %s}}}) { nodes { id } } }'
    assert [n["id"] for n in (await api.ok(literal % "1"))["events"]["nodes"]] == [one["id"]]
    assert [n["id"] for n in (await api.ok(literal % "true"))["events"]["nodes"]] == [true["id"]]
