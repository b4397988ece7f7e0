"""Every integer parameter of every REST route: past the databases' range, or not plain
ASCII digits, it is a 400 naming the parameter — never a 500. The routes and parameters
are read from the served OpenAPI document, so a new one is covered without editing this."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from rest.params import DB_INT_MAX
from tests.rest.conftest import ADMIN, World

# Superscript two, Arabic-Indic one and fullwidth one are digits to int(), not to us.
BAD = ["9" * 20, str(DB_INT_MAX + 1), "\u00b2", "\u0661", "\uff11", "1_0", "5.0", " 5", "+5", ""]


def _integer_parameters(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                    found.append((method, path, parameter["name"]))
    return found


def _url(path: str) -> str:
    return path.replace("{channelId}", "market").replace("{", "").replace("}", "")


async def test_every_integer_parameter_refuses_what_the_database_cannot_hold(
    world: World,
) -> None:
    spec = (await world.api.http.get("/openapi.json")).json()
    parameters = _integer_parameters(spec)
    expected = {
        ("get", "/api/events", "limit"),
        ("get", "/v1/admin/events", "limit"),
        ("get", "/v1/admin/events", "offset"),
        ("get", "/api/v1/channels/{channelId}/events", "limit"),
        ("get", "/api/v1/workspaces", "limit"),
        ("get", "/api/v1/channels", "limit"),
    }
    assert expected <= set(parameters)
    for method, path, name in parameters:
        for value in BAD:
            response = await world.api.http.request(
                method, _url(path), params={name: value}, headers=ADMIN
            )
            assert response.status_code == 400, (path, name, value, response.text)
            assert response.json()["error"]["path"] == name, (path, name, value)


async def test_the_largest_offset_is_served(world: World) -> None:
    await world.publish("market", {"data": 1})
    response = await world.api.http.get(
        "/v1/admin/events", params={"offset": str(DB_INT_MAX)}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["events"] == []
    assert response.json()["total"] == 1


@pytest.mark.parametrize("limit", [DB_INT_MAX + 1, 10**30, 0, "\u0661"])
async def test_replay_limit_in_the_body(world: World, limit: object) -> None:
    response = await world.api.http.post(
        "/v1/admin/events/replay", json={"filter": {}, "limit": limit}, headers=ADMIN
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    if limit == 10**30:
        # Past 64 bits the body's JSON intake refuses it before any field is read.
        assert "64 bits" in error["message"], error
    else:
        assert error["path"] == "limit"


@pytest.mark.parametrize("position", ["\u00b2", "\u0661", str(DB_INT_MAX + 1), "9" * 19, "-1"])
async def test_a_crafted_feed_cursor_is_a_400(world: World, position: str) -> None:
    cursor = base64.urlsafe_b64encode(f"seq:{position}".encode()).decode().rstrip("=")
    response = await world.api.http.get(
        "/api/v1/channels/market/events", params={"cursor": cursor}, headers=ADMIN
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["path"] == "cursor"


async def test_the_largest_feed_position_is_served(world: World) -> None:
    cursor = base64.urlsafe_b64encode(f"seq:{DB_INT_MAX}".encode()).decode().rstrip("=")
    response = await world.api.http.get(
        "/api/v1/channels/market/events", params={"cursor": cursor}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["events"] == []
