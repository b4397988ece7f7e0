"""The compiled fast path answers exactly what Strawberry's executor answers.

The shortcut counts what it serves (``eventgraph_fast_path_served_total{path="graphql"}``),
so the tests know which path answered; the differential test sends generated requests to
an app with the shortcut and to one without it and compares the answers: byte for byte on
SQLite; on PostgreSQL, whose nodes are JSON text built by the database (jsonb's spacing
and number spelling inside ``data``/``meta``), as the same JSON values with the same key
order everywhere.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st

from app.auth.tokens import authenticate
from app.events import read as event_read
from graphql_schema.context import Context
from graphql_schema.fast_path.fields import ENABLED, RELATIONS, SCALARS
from graphql_schema.fast_path.middleware import PlanCache
from graphql_schema.fast_path.plan import Plan
from graphql_schema.schema import schema
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.fast_paths import Request, run_differential, served
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
    "{ events { nodes { id parent { id } parent { type } } } }",
]


def _numbers(value: Any) -> Any:
    """Numbers as their normalised decimal text (``1.5e300`` is jsonb's ``15000…0``)."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"#{Decimal(repr(value)).normalize()}"
    return value


def ordered(value: Any) -> str:
    """``value`` as JSON text with its key order kept: equal for two answers only when
    they hold the same values (numbers by value, however spelled) with the same keys in
    the same order."""
    return json.dumps(_numbers(value))


def same_json(body: bytes) -> bytes:
    """An answer's body re-encoded, so that two encodings of one JSON value compare equal
    (spacing, ``1.10`` / ``1.1``) while key order still counts; non-JSON stays as is."""
    try:
        return ordered(json.loads(body)).encode()
    except ValueError:
        return body


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
    [hidden] = await publish(api, "priv", {"type": "b", "data": [1, 2], "parentId": root["id"]})
    await publish(
        api, "pub", *({"type": t, "data": i, "parentId": root["id"]} for i, t in enumerate("ab"))
    )
    await publish(api, "pub", {"data": "x"})
    # Newest: a readable event whose parent only the admin may read (null for the others).
    await publish(api, "pub", {"type": "c", "data": 0, "parentId": hidden["id"]})
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
        before = served("graphql")
        fast = await api.ok(query, variables, token=token)
        assert served("graphql") == before + 1
        assert ordered(fast) == ordered(await _strawberry(api, query, variables, token))


@pytest.mark.parametrize("query", NOT_PLANNED)
async def test_other_documents_take_the_general_path(api: Api, query: str) -> None:
    before = served("graphql")
    await api.graphql(query)
    assert served("graphql") == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_body_strawberry_refuses_is_not_served(api: Api, content_type: str) -> None:
    query, _ = PLANNED[0]
    before = served("graphql")
    response = await api.http.post(
        "/graphql",
        content=json.dumps({"query": query}),
        headers={"Content-Type": content_type, "Authorization": f"Bearer {ADMIN_SECRET}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert served("graphql") == before


def test_served_fields_are_read_off_the_strawberry_types() -> None:
    # Attribute-resolved scalars only: resolvers (relations, connections) are not columns.
    assert set(SCALARS["Event"]) == set(EVENT_FIELDS.split())
    assert SCALARS["Event"]["createdAt"] == ("created_at", "datetime")
    assert SCALARS["Event"]["data"] == ("data", "plain")
    assert "replayed" not in SCALARS["Event"]  # set by subscriptions, not read from a row
    assert "workspace" not in SCALARS["Channel"]
    assert "events" not in SCALARS["Workspace"]
    assert set(RELATIONS) == {"parent", "channel", "workspace"}
    assert ENABLED


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
    assert ordered(fast) == ordered(await _strawberry(api, query, {}, ADMIN_SECRET))
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


AWKWARD_TEXT = "q\"uo\\te\\\" \x01\x1f\x7f\n\t\u2028 ü 🎉 'single'"


async def test_awkward_nodes_read_alike(api: Api) -> None:
    """Node JSON built by the database (PostgreSQL) or here (SQLite) holds what
    Strawberry answers, key order included: escapes, NULL columns, aliases, fields
    selected twice, ``__typename``, relations, a 64 KB value (the largest ``data`` allowed)."""
    await seed_basic(api)
    [root] = await publish(api, "pub", {"type": AWKWARD_TEXT, "data": {}})
    await publish(
        api,
        "pub",
        {"data": {"a": [[1, [2, []]], {"k": [None]}], "big": 2**63 - 1, "neg": -(2**63)}},
        {"data": [], "meta": {"b": 1.5e300, "s": AWKWARD_TEXT}, "subjectId": AWKWARD_TEXT},
        {"data": "x" * 65534, "userId": "\\", "parentId": root["id"]},
        {"data": {"z": 1, "a": {"y": 2, "b": 3}}, "type": None},
    )
    query = (
        "{ events(first: 10, orderBy: [{id: asc}]) { edges { cursor node {"
        " __typename t: type id type data meta createdAt when: createdAt subjectId userId"
        " parentId publisherId publisherName channelId workspaceId id"
        " up: parent { __typename type id type createdAt } channel { name id } } } } }"
    )
    scope = await make_token(api, kind="subscribe", channelIds=[])
    for token in (ADMIN_SECRET, scope):
        before = served("graphql")
        fast = await api.ok(query, token=token)
        assert served("graphql") == before + 1
        assert ordered(fast) == ordered(await _strawberry(api, query, {}, token))
        nodes = [edge["node"] for edge in fast["events"]["edges"]]
        assert len(nodes) == 5
        assert list(nodes[0])[:3] == ["__typename", "t", "id"]
        assert {node["t"] for node in nodes} >= {AWKWARD_TEXT, None}
        assert any(len(node["data"]) == 65534 for node in nodes if isinstance(node["data"], str))
    # A field selected twice is one key: no object of the answer repeats a key.
    response = await api.http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {ADMIN_SECRET}"}
    )
    json.loads(response.content, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


async def test_postgresql_builds_the_nodes_sqlite_leaves_them(api: Api, dialect: str) -> None:
    await _seed(api)
    plan = PlanCache().get(PLANNED[0][0], None)
    assert isinstance(plan, Plan)
    [root] = plan.roots
    assert root.node_shape is not None
    state = _app_state(api)
    principal = await authenticate(db=state.db, settings=state.settings, secret=ADMIN_SECRET)
    page = await event_read.list_events(
        db=state.db,
        scope=principal.read_scope,
        query=event_read.EventQuery(),
        page=event_read.PageRequest(first=3),
        max_page_size=100,
        related=root.relations,
        node=root.node_shape,
    )
    assert len(page.rows) == 3
    if dialect == "postgresql":
        assert page.nodes is not None
        assert [json.loads(node)["id"] for node in page.nodes] == [r["id"] for r in page.rows]
    else:
        assert page.nodes is None


# --- differential: shortcut on vs. off ----------------------------------------------

_DOCUMENTS = [
    *(query for query, _ in PLANNED),
    """query Page($f: EventFilter, $o: [EventOrderBy!], $first: Int, $after: String,
              $last: Int, $before: String, $ids: [ID!]) {
         events(filter: $f, orderBy: $o, first: $first, after: $after, last: $last,
                before: $before, ids: $ids) {
           totalCount nodes { id type data meta createdAt parent { id } channel { name } }
           pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
    "query A { events(first: 1) { nodes { id } } } query B { events(last: 1) { nodes { id } } }",
    NOT_PLANNED[1],
    "{ events { nodes { id } }",
]
_FILTERS = [
    None,
    {},
    {"type": {"in": ["a", "b"]}},
    {"data": {"path": {"path": ["n"], "gte": 1}}},
    {"parent": {"type": {"eq": "a"}}},
    {"type": {"eq": None}},
    {"type": {"eqq": "a"}},
    "nope",
]
_ORDERS = [None, [{"type": "asc"}], [{"createdAt": "desc_nulls_last"}, {"id": "asc"}], [{}]]
_INTS = st.one_of(st.none(), st.integers(-2, 102), st.sampled_from([2**31, "3", 2.5]))


async def _differential_setup(api: Api) -> dict[str, Any]:
    token = await _seed(api)
    page = await api.ok("{ events(first: 2) { pageInfo { startCursor endCursor } } }")
    info = page["events"]["pageInfo"]
    ids = await api.ok("{ events { nodes { id } } }")
    return {
        "cursors": [info["startCursor"], info["endCursor"], "garbage", None],
        "ids": [node["id"] for node in ids["events"]["nodes"]][:3],
        "secrets": [ADMIN_SECRET, token],
    }


def _graphql_requests(context: dict[str, Any]) -> st.SearchStrategy[Request]:
    cursors = st.sampled_from(context["cursors"])
    variables = st.fixed_dictionaries(
        {},
        optional={
            "f": st.sampled_from(_FILTERS),
            "o": st.sampled_from(_ORDERS),
            "first": _INTS,
            "last": _INTS,
            "after": cursors,
            "before": cursors,
            "ids": st.lists(st.sampled_from([*context["ids"], "nope"]), max_size=2),
            "a": cursors,
        },
    )
    payload = st.fixed_dictionaries(
        {"query": st.sampled_from(_DOCUMENTS)},
        optional={
            "variables": st.one_of(variables, st.sampled_from([None, [], "x"])),
            "operationName": st.sampled_from([None, "A", "B", "Q", "Page", "Nope", 5]),
        },
    )
    body = st.one_of(
        payload.map(lambda value: json.dumps(value).encode()),
        st.sampled_from([b"", b"[]", b"{", b'"query"', b'{"query": 1}']),
    )
    content_type = st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", None]
    )
    secrets = context["secrets"]
    auth = st.one_of(
        st.sampled_from(secrets).map(lambda s: (("Authorization", f"Bearer {s}"),)),
        st.just(()),
        st.just((("Authorization", "Bearer nope"),)),
    )
    return st.builds(
        lambda content, kind, headers: Request(
            "POST",
            "/graphql",
            headers=(*headers, *((("Content-Type", kind),) if kind else ())),
            content=content,
        ),
        body,
        content_type,
        auth,
    )


def test_shortcut_and_strawberry_answer_alike(database_url: str, dialect: str) -> None:
    run_differential(
        database_url,
        setup=_differential_setup,
        requests=_graphql_requests,
        path="graphql",
        examples=300,
        min_served=0.1,
        normalize=same_json if dialect == "postgresql" else lambda body: body,
    )


async def test_a_field_set_by_the_general_path_falls_back(api: Api) -> None:
    await _seed(api)
    query = "{ events(first: 2) { nodes { id replayed } } }"
    data = await api.ok(query)
    assert [node["replayed"] for node in data["events"]["nodes"]] == [False, False]
    assert data == await _strawberry(api, query, {}, ADMIN_SECRET)
