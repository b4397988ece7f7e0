"""A cross-site page cannot act with the session cookie: every state-changing route refuses
a cookie-authenticated "simple" request (docs/rest.md, docs/graphql.md).

The routes are read from the app's OpenAPI document, so a route added later is checked
without editing this file; the bodies below are ones each route would accept with a JSON
content type, and the state is compared before and after."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.csrf import MESSAGE
from tests.fixtures.app import ADMIN_SECRET, Api
from tests.rest.conftest import ADMIN, World

COOKIE = {"Cookie": f"session={ADMIN_SECRET}"}
SIMPLE_CONTENT_TYPES = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
]
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

BODIES: dict[str, Any] = {
    "/graphql": {"query": 'mutation { createWorkspace(input: {id: "forged", name: "f"}) { id } }'},
    "/v1/admin/events/replay": {"filter": {}},
    "/api/v1/channels/{channelId}/events": {"data": {"forged": True}},
    "/api/v1/workspaces": {"id": "forged", "name": "forged"},
    "/api/v1/channels": {"id": "forged", "name": "forged", "workspaceId": "acme"},
    "/api/v1/tokens": {"name": "forged", "kind": "subscribe", "channelIds": ["market"]},
}


def _state_changing_routes(api: Api) -> list[tuple[str, str]]:
    """Every (method, path) of the app that is not GET/HEAD, from its OpenAPI document."""
    paths = api.app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method.upper() in STATE_CHANGING
    )


def _url(path: str) -> str:
    return path.replace("{channelId}", "market").replace("{", "").replace("}", "")


async def _snapshot(world: World) -> list[Any]:
    http = world.api.http
    paths = ["/api/events", "/api/v1/workspaces", "/api/v1/channels", "/api/v1/tokens"]
    return [(await http.get(path, headers=ADMIN)).json() for path in paths]


def _assert_refused(response: Any, path: str) -> None:
    assert response.status_code == 403, (path, response.text)
    body = response.json()
    if path == "/graphql":
        assert body["errors"][0] == {"message": MESSAGE, "extensions": {"code": "FORBIDDEN"}}
    else:
        assert body["error"] == {"code": "FORBIDDEN", "message": MESSAGE}


async def test_the_state_changing_routes_are_found(api: Api) -> None:
    routes = _state_changing_routes(api)
    assert ("POST", "/graphql") in routes
    assert ("POST", "/api/v1/channels/{channelId}/events") in routes
    # Only POST can be sent cross-site without a preflight; the others need CORS.
    assert {method for method, _ in routes} <= STATE_CHANGING


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES)
async def test_simple_cookie_requests_change_nothing(
    world: World, content_type: str | None
) -> None:
    before = await _snapshot(world)
    for method, path in _state_changing_routes(world.api):
        if method != "POST":
            continue
        headers = {**COOKIE, **({"Content-Type": content_type} if content_type else {})}
        body = json.dumps(BODIES.get(path, {}))
        response = await world.api.http.post(_url(path), content=body, headers=headers)
        _assert_refused(response, path)
    assert await _snapshot(world) == before


async def test_a_cookie_mutation_over_get_is_refused(world: World) -> None:
    before = await _snapshot(world)
    response = await world.api.http.get(
        "/graphql", params={"query": BODIES["/graphql"]["query"]}, headers=COOKIE
    )
    assert response.status_code == 405
    assert await _snapshot(world) == before


@pytest.mark.parametrize(
    "headers",
    [
        {**COOKIE, "Content-Type": "application/json"},
        {**COOKIE, "Content-Type": "application/json; charset=utf-8"},
        {**COOKIE, "Content-Type": "text/plain", "X-Requested-With": "fetch"},
        {**COOKIE, "Apollo-Require-Preflight": "true"},
        {"Authorization": f"Bearer {ADMIN_SECRET}"},
        {**COOKIE, "Authorization": f"Bearer {ADMIN_SECRET}"},
    ],
)
async def test_preflighted_or_bearer_requests_pass(world: World, headers: dict[str, str]) -> None:
    response = await world.api.http.post(
        "/api/v1/channels/market/events", content=json.dumps({"data": 1}), headers=headers
    )
    if headers.get("Content-Type", "").startswith("application/json"):
        assert response.status_code == 201, response.text
    else:  # passed the check; the route reads JSON bodies only
        assert response.status_code == 400, response.text
    graphql = await world.api.http.post(
        "/graphql", content=json.dumps(BODIES["/graphql"]), headers=headers
    )
    assert graphql.status_code != 403, graphql.text
