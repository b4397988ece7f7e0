"""NUL characters (which PostgreSQL cannot store) are a client error everywhere, never a 500."""

from __future__ import annotations

import pytest

from tests.fixtures.app import ADMIN_SECRET, Api
from tests.graphql.helpers import publish, seed_basic

HEADERS = {"Authorization": f"Bearer {ADMIN_SECRET}"}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($t: String) { events(filter: {type: {eq: $t}}) { nodes { id } } }", {"t": "a\x00"}),
        ('{ events(filter: {type: {eq: "a\\u0000"}}) { nodes { id } } }', {}),
        ("query($i: ID!) { event(id: $i) { id } }", {"i": "\x00"}),
        (
            'mutation($e: EventInput!) { publishEvent(channelId: "pub", event: $e) { id } }',
            {"e": {"data": {"k\x00": 1}}},
        ),
    ],
)
async def test_nul_is_bad_user_input(api: Api, query: str, variables: dict[str, object]) -> None:
    await seed_basic(api)
    assert await api.error_code(query, variables) == "BAD_USER_INPUT"


async def test_literal_backslash_u_text_is_not_nul(api: Api) -> None:
    await seed_basic(api)
    [event] = await publish(api, "pub", {"type": "\\u0000", "data": "\\u0000"})
    data = await api.ok(
        "query($t: String) { events(filter: {type: {eq: $t}}) { nodes { id data } } }",
        {"t": "\\u0000"},
    )
    assert data["events"]["nodes"] == [{"id": event["id"], "data": "\\u0000"}]


async def test_get_with_nul_is_refused(api: Api) -> None:
    response = await api.http.get(
        "/graphql", params={"query": '{ event(id: "\x00") { id } }'}, headers=HEADERS
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
