"""``GET /api/events`` answers the same through its shortcut (``rest.fast_list``) and the route.

The shortcut counts what it serves (``eventgraph_fast_path_served_total{path="rest_list"}``),
so each test knows which path answered; the differential test sends generated requests to
an app with the shortcut and to one without it and compares the bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.fixtures.app import ADMIN_SECRET, Api
from tests.fixtures.fast_paths import Request, run_differential, served
from tests.rest.conftest import ADMIN, World, build_world

SERVED = "rest_list"


async def _seed(world: World) -> None:
    for i, kind in enumerate(["a", "b", "a", None]):
        body = {"data": {"n": i}, **({"type": kind} if kind else {})}
        await world.publish("market", body)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": "2", "orderBy": json.dumps([{"type": "asc"}])},
        {"filter": json.dumps({"data": {"path": {"path": ["n"], "gte": 1}}}), "topic": "a"},
        {"since": "2000-01-01T00:00:00Z", "ids": "x,y", "unknown": "ignored"},
        {"limit": "1", "limit ": "x"},
    ],
)
async def test_valid_requests_are_served_by_the_shortcut(
    world: World, params: dict[str, str]
) -> None:
    await _seed(world)
    before = served(SERVED)
    response = await world.api.http.get("/api/events", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert served(SERVED) == before + 1


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": "\u00b2"}, "limit"),
        ({"limit": "\u0661"}, "limit"),
        ({"limit": "\uff11"}, "limit"),
        ({"limit": "1_0"}, "limit"),
        ({"limit": "5.0"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "9" * 25}, "limit"),
        ({"filter": "{not json"}, "filter"),
        ({"filter": json.dumps({"type": {"eqq": "a"}})}, "filter.type.eqq"),
        ({"after": "garbage"}, "after"),
    ],
)
async def test_errors_are_the_routes(world: World, params: dict[str, str], path: str) -> None:
    before = served(SERVED)
    response = await world.api.http.get("/api/events", params=params, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["path"] == path
    assert served(SERVED) == before


async def test_credentials_are_checked_by_the_route(world: World) -> None:
    before = served(SERVED)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Cookie": "session=nope"}):
        response = await world.api.http.get("/api/events", headers=headers)
        assert response.status_code == 401
    assert served(SERVED) == before


# --- differential: shortcut on vs. off, byte for byte ---------------------------------

_FILTERS = [
    "{}",
    json.dumps({"type": {"in": ["a", "b"]}}),
    json.dumps({"data": {"path": {"path": ["n"], "gte": 1}}}),
    json.dumps({"OR": [{"type": {"eq": "a"}}, {"channelId": {"eq": "secret"}}]}),
    json.dumps({"parent": {"type": {"eq": "a"}}}),
    json.dumps({"type": {"eq": None}}),
    json.dumps({"type": {"eqq": "a"}}),
    "{not json",
    "[]",
    "null",
    "",
]
_ORDERS = [
    json.dumps([{"type": "asc"}]),
    json.dumps({"createdAt": "asc"}),
    json.dumps([{"type": "desc_nulls_last"}, {"id": "asc"}]),
    json.dumps([{"nope": "asc"}]),
    "[",
]
_INTEGERS = st.one_of(
    st.integers(-3, 130).map(str),
    st.sampled_from(
        ["\u00b2", "\u0661", "\uff11", "1_0", "5.0", " 5", "+5", "", "0x10", "9" * 20, "abc"]
    ),
)
_DATES = st.sampled_from(["2000-01-01T00:00:00Z", "2000-01-01", "2999-12-31", "yesterday"])


async def _setup(api: Api) -> dict[str, Any]:
    world = await build_world(api)
    events = []
    for i, kind in enumerate(["a", "b", "a", None, "c"]):
        body = {"data": {"n": i}, **({"type": kind} if kind else {})}
        events.append(await world.publish("market" if i % 2 else "secret", body))
    child = {"type": "c", "data": [i], "parent_id": events[0]["id"]}
    events.append(await world.publish("market", child))
    first = (await api.http.get("/api/events?limit=2", headers=ADMIN)).json()
    ordered = await api.http.get(
        "/api/events", params={"limit": "2", "orderBy": _ORDERS[0]}, headers=ADMIN
    )
    cursors = [
        first["pageInfo"]["endCursor"],
        first["pageInfo"]["startCursor"],
        ordered.json()["pageInfo"]["endCursor"],
        "garbage",
        "",
    ]
    return {"ids": [e["id"] for e in events], "cursors": cursors, "tokens": world.tokens}


def _requests(context: dict[str, Any]) -> st.SearchStrategy[Request]:
    ids = st.lists(st.sampled_from([*context["ids"], "nope", ""]), max_size=3).map(",".join)
    cursors = st.sampled_from(context["cursors"])
    texts = st.sampled_from(["a", "b", "c", "acme", "other", "", "x" * 3])
    values = {
        "limit": _INTEGERS,
        "filter": st.sampled_from(_FILTERS),
        "orderBy": st.sampled_from(_ORDERS),
        "after": cursors,
        "before": cursors,
        "ids": ids,
        "type": texts,
        "topic": texts,
        "workspace_id": texts,
        "subject_id": texts,
        "parent_id": st.sampled_from([context["ids"][0], "nope"]),
        "user_id": texts,
        "since": _DATES,
        "created_at_after": _DATES,
        "created_at_before": _DATES,
        "order_by": st.sampled_from(_ORDERS),
        "unknown": texts,
    }
    # ``limit`` half of the time: integer parsing is where the paths diverged.
    pair = st.one_of(
        _INTEGERS.map(lambda value: ("limit", value)),
        st.sampled_from(sorted(values)).flatmap(
            lambda name: values[name].map(lambda value: (name, value))
        ),
    )
    secrets = [ADMIN_SECRET, *context["tokens"].values()]
    auth = st.one_of(
        st.sampled_from(secrets).map(lambda s: (("Authorization", f"Bearer {s}"),)),
        st.sampled_from(secrets).map(lambda s: (("Cookie", f"session={s}"),)),
        st.sampled_from([(), (("Authorization", "Bearer nope"),), (("Authorization", "Basic x"),)]),
    )
    return st.builds(
        Request,
        method=st.just("GET"),
        url=st.just("/api/events"),
        params=st.lists(pair, max_size=4).map(tuple),
        headers=auth,
    )


def test_shortcut_and_route_answer_byte_for_byte(database_url: str) -> None:
    run_differential(
        database_url, setup=_setup, requests=_requests, path=SERVED, examples=300, min_served=0.2
    )
