"""``GET /api/events`` answers the same through its fast ASGI path and through the route.

An unknown parameter (which the route ignores) makes the fast path decline, so each request
below is made both ways and the bodies compared."""

from __future__ import annotations

import json

import pytest

from rest.fast_list import FastListMiddleware, _Declined, _params
from tests.rest.conftest import ADMIN, World, bearer

CASES = [
    {},
    {"limit": "2"},
    {"limit": "2", "orderBy": json.dumps([{"type": "asc"}])},
    {"filter": json.dumps({"data": {"path": {"path": ["n"], "gte": 1}}}), "topic": "a"},
    {"since": "2000-01-01T00:00:00Z", "ids": "x,y"},
    {"limit": "0"},
    {"filter": "{not json"},
    {"filter": json.dumps({"type": {"eqq": "a"}})},
]


async def _seed(world: World) -> None:
    for i, kind in enumerate(["a", "b", "a", None]):
        body = {"data": {"n": i}, **({"type": kind} if kind else {})}
        await world.publish("market", body)


@pytest.mark.parametrize("params", CASES)
async def test_fast_path_equals_the_route(world: World, params: dict[str, str]) -> None:
    await _seed(world)
    served = FastListMiddleware.served
    fast = await world.api.http.get("/api/events", params=params, headers=ADMIN)
    # Well-formed requests are served by the fast path; errors are always the route's.
    assert FastListMiddleware.served == served + (fast.status_code == 200)
    routed = await world.api.http.get(
        "/api/events", params={**params, "via": "route"}, headers=ADMIN
    )
    assert FastListMiddleware.served == served + (fast.status_code == 200)
    assert fast.status_code == routed.status_code
    assert fast.json() == routed.json()


async def test_cursor_pages_and_credentials_match(world: World) -> None:
    await _seed(world)
    first = (await world.api.http.get("/api/events?limit=2", headers=ADMIN)).json()
    after = {"limit": "2", "after": first["pageInfo"]["endCursor"]}
    fast = await world.api.http.get("/api/events", params=after, headers=ADMIN)
    routed = await world.api.http.get("/api/events", params={**after, "x": "1"}, headers=ADMIN)
    assert fast.json() == routed.json()
    assert fast.json()["pageInfo"]["hasPreviousPage"] is True
    for headers in ({}, bearer("nope"), {"Cookie": "session=nope"}):
        response = await world.api.http.get("/api/events", headers=headers)
        assert response.status_code == 401


def test_only_plain_known_parameters_are_served() -> None:
    assert _params(b"limit=5&filter=%7B%7D") == {"limit": "5", "filter": "{}"}
    for query in (b"limit=1&limit=2", b"unknown=1", b"type=%00"):
        with pytest.raises(_Declined):
            _params(query)
