"""Every GraphQL error carries ``extensions.code``; limits hold with fragments expanded."""

from __future__ import annotations

from tests.fixtures.app import Api
from tests.graphql.helpers import make_token, seed_basic


async def test_codes_for_parse_validation_and_variables(api: Api) -> None:
    assert await api.error_code("{ events { nodes { id } ") == "GRAPHQL_VALIDATION_FAILED"
    assert await api.error_code("{ events { nope } }") == "GRAPHQL_VALIDATION_FAILED"
    assert (
        await api.error_code("query($n: Int) { events(first: $n) { nodes { id } } }", {"n": "x"})
        == "BAD_USER_INPUT"
    )
    assert (
        await api.error_code("{ events(orderBy: [{id: asc, type: asc}]) { nodes { id } } }")
        == "GRAPHQL_VALIDATION_FAILED"
    )
    assert await api.error_code("{ events(first: 1000) { nodes { id } } }") == "BAD_USER_INPUT"


async def test_authentication_and_permissions(api: Api) -> None:
    await seed_basic(api)
    body = await api.graphql("{ events { nodes { id } } }", token="not-a-token")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await api.error_code("{ tokens { id } }", token=None) == "UNAUTHENTICATED"
    reader = await make_token(api, kind="subscribe", channelIds=["pub"])
    assert await api.error_code("{ tokens { id } }", token=reader) == "FORBIDDEN"
    create = 'mutation { createWorkspace(input: {name: "x"}) { id } }'
    assert await api.error_code(create, token=reader) == "FORBIDDEN"
    publish = 'mutation { publishEvent(channelId: "pub", event: {data: 1}) { id } }'
    assert await api.error_code(publish, token=None) == "UNAUTHENTICATED"
    assert await api.error_code(publish, token=reader) == "FORBIDDEN"
    missing = 'mutation { publishEvent(channelId: "nope", event: {data: 1}) { id } }'
    body = await api.graphql(missing)
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "path": "channelId"}


async def test_session_cookie_authenticates(api: Api) -> None:
    await seed_basic(api)
    api.http.cookies.set("session", "test-admin-secret")
    try:
        response = await api.http.post("/graphql", json={"query": "{ tokens { id } }"})
    finally:
        api.http.cookies.clear()
    assert response.json()["data"] == {"tokens": []}


async def test_get_and_graphiql(api: Api) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": "{ events(first: 1) { nodes { id } } }"},
        headers={"Authorization": "Bearer test-admin-secret"},
    )
    assert response.json() == {"data": {"events": {"nodes": []}}}
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_depth_bomb_through_fragments(api: Api) -> None:
    query = """
    fragment A on Event { parent { ...B } }
    fragment B on Event { parent { ...C } }
    fragment C on Event { parent { ...D } }
    fragment D on Event { parent { ...E } }
    fragment E on Event { parent { ...F } }
    fragment F on Event { parent { parent { parent { parent { parent { parent { id } } } } } } }
    { events { nodes { ...A } } }
    """
    body = await api.graphql(query)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "depth" in body["errors"][0]["message"]


async def test_alias_bomb_through_fragments(api: Api) -> None:
    aliases = " ".join(f"a{i}: id" for i in range(10))
    spreads = " ".join(f"e{i}: events {{ nodes {{ ...F }} }}" for i in range(5))
    query = f"fragment F on Event {{ {aliases} }} {{ {spreads} }}"
    body = await api.graphql(query)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "aliases" in body["errors"][0]["message"]


async def test_token_limit(api: Api) -> None:
    query = "{ events { nodes { " + "id " * 6000 + "} } }"
    assert await api.error_code(query) == "GRAPHQL_VALIDATION_FAILED"
