"""Requests refused before execution answer in the GraphQL-over-HTTP shape: JSON
``{"errors": [{"message", "extensions": {"code"}}]}`` with a 4xx status, never text."""

from __future__ import annotations

import pytest

from tests.fixtures.app import ADMIN_SECRET, Api

AUTH = {"Authorization": f"Bearer {ADMIN_SECRET}"}
JSON = {**AUTH, "Content-Type": "application/json"}


def _assert_transport_error(response: object, status: int) -> str:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    message: str = error["message"]
    assert message
    return message


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"not json", JSON),
        (b"", JSON),
        (b"[]", JSON),
        (b'[{"query": "{ __typename }"}]', JSON),
        (b'"{ __typename }"', JSON),
        (b"5", JSON),
        (b'{"query": 5}', JSON),
        (b'{"query": "{ __typename }", "variables": []}', JSON),
        (b'{"query": "{ __typename }", "variables": "x"}', JSON),
        (b'{"query": "{ __typename }", "extensions": 1}', JSON),
        (b'{"query": "query A { __typename }", "operationName": "B"}', JSON),
        (b'{"query": "query A { __typename }", "operationName": 5}', JSON),
        (b'{"variables": {}}', JSON),
        (b'{"query": "{ __typename }"}', {**AUTH, "Content-Type": "text/plain"}),
        (b"query=%7B__typename%7D", {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}),
        (b'{"query": "{ __typename }"}', AUTH),
    ],
)
async def test_bad_requests_are_json(api: Api, content: bytes, headers: dict[str, str]) -> None:
    response = await api.http.post("/graphql", content=content, headers=headers)
    _assert_transport_error(response, 400)


async def test_a_mutation_over_get_is_405_with_allow_post(api: Api) -> None:
    query = 'mutation { createWorkspace(input: {id: "w", name: "w"}) { id } }'
    response = await api.http.get("/graphql", params={"query": query}, headers=AUTH)
    assert "mutation" in _assert_transport_error(response, 405)
    assert response.headers["allow"] == "POST"
    data = await api.ok('{ workspace(id: "w") { id } }')
    assert data["workspace"] is None


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": "{ __typename }", "variables": "{"},
        {"query": "{ __typename }", "variables": "5"},
    ],
)
async def test_bad_get_requests_are_json(api: Api, params: dict[str, str]) -> None:
    response = await api.http.get(
        "/graphql", params=params, headers={**AUTH, "Accept": "application/json"}
    )
    _assert_transport_error(response, 400)


async def test_queries_over_get_still_work(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": "{ __typename }"}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
