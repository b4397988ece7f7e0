"""/openapi.json documents every REST route and parameter, with examples."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.app import Api

ROUTES = {
    ("get", "/api/events"),
    ("get", "/api/events/{id}"),
    ("get", "/api/events/export.ndjson"),
    ("get", "/v1/admin/events"),
    ("get", "/v1/admin/events/{id}"),
    ("post", "/v1/admin/events/replay"),
    ("post", "/api/v1/channels/{channelId}/events"),
    ("get", "/api/v1/channels/{channelId}/events"),
    ("get", "/api/v1/channels/{channelId}/events/{eventId}"),
    ("delete", "/api/v1/channels/{channelId}/events/{eventId}"),
    ("post", "/api/v1/workspaces"),
    ("get", "/api/v1/workspaces"),
    ("get", "/api/v1/workspaces/{workspaceId}"),
    ("post", "/api/v1/channels"),
    ("get", "/api/v1/channels"),
    ("get", "/api/v1/channels/{channelId}"),
    ("patch", "/api/v1/channels/{channelId}"),
    ("delete", "/api/v1/channels/{channelId}"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{tokenId}"),
}


def _params(spec: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spec["paths"][path][method].get("parameters", [])}


async def test_every_route_is_documented_with_a_tag_and_summary(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    for method, path in ROUTES:
        operation = spec["paths"][path][method]
        assert operation.get("tags"), (method, path)
        assert operation.get("summary"), (method, path)
    tags = {tag["name"] for tag in spec["tags"]}
    assert {"events (/api/events)", "admin events (/v1/admin)", "management"} <= tags


async def test_events_parameters_are_described_with_examples(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    params = _params(spec, "get", "/api/events")
    expected = {
        "limit",
        "after",
        "before",
        "ids",
        "filter",
        "orderBy",
        "workspace_id",
        "type",
        "topic",
        "subject_id",
        "parent_id",
        "created_at_after",
        "created_at_before",
        "user_id",
        "since",
    }
    assert expected <= set(params)
    for name in expected:
        assert params[name].get("description"), name
    for example in params["filter"]["schema"]["examples"]:
        assert isinstance(json.loads(example), dict)
    for example in params["orderBy"]["schema"]["examples"]:
        assert isinstance(json.loads(example), list)
    assert params["limit"]["schema"]["maximum"] == 100
    export = _params(spec, "get", "/api/events/export.ndjson")
    assert {"filter", "after", "type", "since"} <= set(export)
    poll = _params(spec, "get", "/api/v1/channels/{channelId}/events")
    assert {"since", "cursor", "type", "limit", "channelId"} <= set(poll)
    admin = _params(spec, "get", "/v1/admin/events")
    assert {"limit", "offset", "userId", "event", "from", "to"} <= set(admin)


async def test_security_schemes_are_declared(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" and s.get("name") == "session" for s in schemes.values())


async def test_errors_are_documented_as_they_are_answered(api: Api) -> None:
    """Validation errors are 400 in the envelope, never FastAPI's 422; every REST
    operation documents a default error, and 400 when it takes input, with the envelope's
    schema."""
    spec = (await api.http.get("/openapi.json")).json()
    assert '"422"' not in json.dumps(spec)
    for path, item in spec["paths"].items():
        if path.startswith("/graphql"):
            continue  # GraphQL answers errors in the GraphQL shape (docs/graphql.md)
        for method, operation in item.items():
            responses = operation["responses"]
            takes_input = operation.get("parameters") or operation.get("requestBody")
            for status in ("400", "default") if takes_input else ("default",):
                assert status in responses, (method, path, status)
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, schema)
