"""Hostile inputs against the real server (uvicorn subprocess): each row has the exact
status and error code expected, and no refused request stores or changes an event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from tests.fixtures.app import ADMIN_SECRET

AUTH = {"Authorization": f"Bearer {ADMIN_SECRET}"}
JSON = {**AUTH, "Content-Type": "application/json"}
PUBLISH = "/api/v1/channels/hostile/events"


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    status: int
    code: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    names: str | None = None
    """A text the error must hold (the path of the fault), when the row checks it."""


def _gql(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _query(path: str, **params: str) -> str:
    return path + "?" + urlencode(params)


def _duplicate(name: str, method: str, path: str, body: bytes, names: str) -> Row:
    status, code = (400, "BAD_REQUEST") if path.startswith("/graphql") else (400, "BAD_USER_INPUT")
    return Row(f"duplicate key: {name}", method, path, status, code, body, names=names)


# A repeated key would be read as its last value: what is stored would not be what was sent.
DUPLICATE_KEYS = [
    _duplicate("publish data", "POST", PUBLISH, b'{"data": {"n": 1, "n": 2}}', "data.n"),
    _duplicate("publish field", "POST", PUBLISH, b'{"type": "a", "data": 1, "type": "b"}', "type"),
    _duplicate(
        "batch",
        "POST",
        PUBLISH,
        b'{"events": [{"data": 1}, {"data": {"k": [{"x": 1, "x": 1}]}}]}',
        "events[1].data.k[0].x",
    ),
    _duplicate(
        "create workspace",
        "POST",
        "/api/v1/workspaces",
        b'{"id": "dupw", "name": "a", "name": "b"}',
        "name",
    ),
    _duplicate(
        "update channel", "PATCH", "/api/v1/channels/hostile", b'{"name": "x", "name": "y"}', "name"
    ),
    _duplicate(
        "create webhook",
        "POST",
        "/v1/admin/webhooks",
        b'{"url": "https://example.com/h", "url": "https://example.org/h"}',
        "url",
    ),
    _duplicate(
        "admin replay",
        "POST",
        "/v1/admin/events/replay",
        b'{"eventIds": ["x"], "limit": 1, "limit": 2}',
        "limit",
    ),
    _duplicate(
        "filter parameter",
        "GET",
        _query("/api/events", filter='{"type": {"eq": "a"}, "type": {"eq": "seed"}}'),
        b"",
        "filter.type",
    ),
    _duplicate(
        "orderBy parameter",
        "GET",
        _query("/api/events", orderBy='[{"type": "asc", "type": "desc"}]'),
        b"",
        "orderBy[0].type",
    ),
    _duplicate(
        "GraphQL variables",
        "POST",
        "/graphql",
        b'{"query": "mutation($e: EventInput!) { publishEvent(channelId: \\"hostile\\",'
        b' event: $e) { id } }", "variables": {"e": {"data": {"k": 1, "k": 2}}}}',
        "variables.e.data.k",
    ),
    _duplicate(
        "GraphQL query",
        "POST",
        "/graphql",
        b'{"query": "{ __typename }", "query": "mutation { deleteEvent(id: \\"x\\") }"}',
        "query",
    ),
    _duplicate(
        "GraphQL GET variables",
        "GET",
        _query(
            "/graphql",
            query="query($n: Int) { events(first: $n) { nodes { id } } }",
            variables='{"n": 1, "n": 2}',
        ),
        b"",
        "n",
    ),
    Row(
        "duplicate key: GraphQL JSON literal",
        "POST",
        "/graphql",
        200,
        "GRAPHQL_VALIDATION_FAILED",
        _gql('mutation { publishEvent(channelId: "hostile", event: {data: {k: 1, k: 2}}) { id } }'),
        names="'k'",
    ),
]


ROWS = [
    # Strings and bytes
    Row(
        "over-long type",
        "POST",
        PUBLISH,
        400,
        "BAD_USER_INPUT",
        json.dumps({"type": "t" * 201, "data": {}}).encode(),
    ),
    Row(
        "over-long subjectId",
        "POST",
        PUBLISH,
        400,
        "BAD_USER_INPUT",
        json.dumps({"data": 1, "subject_id": "s" * 300}).encode(),
    ),
    Row("NUL in data", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": {"a": "\\u0000"}}'),
    Row("invalid UTF-8", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": "\xff\xfe"}'),
    Row("lone surrogate", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": "\\ud800"}'),
    Row("NaN", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": {"n": NaN}}'),
    Row("Infinity", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": -Infinity}'),
    Row("deep data", "POST", PUBLISH, 400, "BAD_USER_INPUT", b'{"data": ' + _nested(300) + b"}"),
    Row("not JSON", "POST", PUBLISH, 400, "BAD_USER_INPUT", b"{data: 1"),
    Row(
        "wrong content type",
        "POST",
        PUBLISH,
        400,
        "BAD_USER_INPUT",
        b'{"data": 1}',
        {**AUTH, "Content-Type": "text/plain"},
    ),
    Row(
        "multipart publish",
        "POST",
        PUBLISH,
        400,
        "BAD_USER_INPUT",
        b'--x\r\nContent-Disposition: form-data; name="data"\r\n\r\n1\r\n--x--\r\n',
        {**AUTH, "Content-Type": "multipart/form-data; boundary=x"},
    ),
    Row(
        "GraphQL text/plain with a token",
        "POST",
        "/graphql",
        400,
        "BAD_REQUEST",
        _gql("{ events(first: 1) { nodes { id } } }"),
        {**AUTH, "Content-Type": "text/plain"},
    ),
    Row(
        "GraphQL form post with a token",
        "POST",
        "/graphql",
        400,
        "BAD_REQUEST",
        b"query=%7B__typename%7D",
        {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    ),
    Row(
        "cookie + form post (CSRF)",
        "POST",
        PUBLISH,
        403,
        "FORBIDDEN",
        b"data=1",
        {"Cookie": f"session={ADMIN_SECRET}", "Content-Type": "application/x-www-form-urlencoded"},
    ),
    # Query strings
    Row("huge offset", "GET", "/v1/admin/events?offset=" + "9" * 25, 400, "BAD_USER_INPUT"),
    Row("limit in another script", "GET", "/api/events?limit=%D9%A1", 400, "BAD_USER_INPUT"),
    Row("superscript limit", "GET", "/api/events?limit=%C2%B2", 400, "BAD_USER_INPUT"),
    Row(
        "date overflow",
        "GET",
        "/api/events?since=0001-01-01T00:00:00%2B14:00",
        400,
        "BAD_USER_INPUT",
    ),
    Row(
        "deep filter",
        "GET",
        "/api/events?filter=" + "%7B%22NOT%22%3A" * 300 + "%7B%7D" + "%7D" * 300,
        400,
        "BAD_USER_INPUT",
    ),
    Row(
        "filter over the cost budget",
        "GET",
        "/api/events?limit=100&filter="
        + json.dumps({"OR": [{"type": {"ilike": f"%{i}%"}} for i in range(199)]}),
        400,
        "BAD_USER_INPUT",
    ),
    # GraphQL transport and inputs
    Row("GraphQL body not JSON", "POST", "/graphql", 400, "BAD_REQUEST", b"{query"),
    Row("GraphQL batch", "POST", "/graphql", 400, "BAD_REQUEST", b'[{"query": "{ __typename }"}]'),
    Row(
        "GraphQL mutation over GET",
        "GET",
        "/graphql?query=mutation%7BdeleteEvent(id%3A%22x%22)%7D",
        405,
        "BAD_REQUEST",
    ),
    Row(
        "GraphQL NUL escape",
        "POST",
        "/graphql",
        200,
        "BAD_USER_INPUT",
        _gql('{ events(filter: {type: {eq: "a\\u0000"}}) { nodes { id } } }'),
    ),
    Row(
        "GraphQL over-long type",
        "POST",
        "/graphql",
        200,
        "BAD_USER_INPUT",
        _gql(
            'mutation { publishEvent(channelId: "hostile", event: {type: "'
            + "t" * 201
            + '", data: 1}) { id } }'
        ),
    ),
    Row(
        "GraphQL deep variables",
        "POST",
        "/graphql",
        400,
        "BAD_REQUEST",
        b'{"query": "{ __typename }", "variables": {"v": ' + _nested(300) + b"}}",
    ),
    Row(
        "GraphQL huge integer",
        "POST",
        "/graphql",
        400,
        "BAD_REQUEST",
        _gql("query($n: Int) { events(first: $n) { nodes { id } } }", {"n": 10**20}),
    ),
    Row(
        "GraphQL text/plain with cookie (CSRF)",
        "POST",
        "/graphql",
        403,
        "FORBIDDEN",
        _gql('mutation { createWorkspace(input: {id: "x", name: "x"}) { id } }'),
        {"Cookie": f"session={ADMIN_SECRET}", "Content-Type": "text/plain"},
    ),
    Row(
        "replay by a non-admin",
        "POST",
        "/graphql",
        200,
        "UNAUTHENTICATED",
        _gql("mutation { replayEvents(filter: {}) { replayed } }"),
        {"Content-Type": "application/json"},
    ),
    Row(
        "more list values than a statement can bind",
        "POST",
        "/graphql",
        200,
        "BAD_USER_INPUT",
        _gql(
            "query($f: EventFilter) { events(first: 1, filter: $f) { nodes { id } } }",
            {
                "f": {
                    "OR": [{"type": {"in": [f"t{i}-{j}" for j in range(500)]}} for i in range(199)]
                }
            },
        ),
        names="at most 5000 values together",
    ),
    *DUPLICATE_KEYS,
]


def _error(response: httpx.Response) -> tuple[str, str]:
    """(code, message with its path) of either envelope."""
    body = response.json()
    if "error" in body:
        error = body["error"]
        return error["code"], f"{error.get('path')}: {error['message']}"
    if not body.get("errors") or "extensions" not in body["errors"][0]:
        return "no error", response.text[:200]
    first = body["errors"][0]
    return str(first["extensions"]["code"]), first["message"]


def _snapshot(client: httpx.Client) -> list[Any]:
    """Every event, workspace, channel and webhook: what a refused request must not change."""
    query = "{ events(first: 100) { totalCount nodes { id type data meta subjectId } } }"
    response = client.post("/graphql", json={"query": query}, headers=AUTH)
    listed = [
        client.get(path, headers=AUTH).json()
        for path in ("/api/v1/workspaces", "/api/v1/channels", "/v1/admin/webhooks")
    ]
    return [response.json()["data"]["events"]["nodes"], *listed]


def test_hostile_rows(strict_server: str) -> None:
    with httpx.Client(base_url=strict_server, timeout=30) as client:
        client.post(
            "/graphql",
            json={"query": 'mutation { createWorkspace(input: {id: "hw", name: "hw"}) { id } }'},
            headers=AUTH,
        )
        client.post(
            "/graphql",
            json={
                "query": 'mutation { createChannel(input: {id: "hostile", name: "h",'
                ' workspaceId: "hw"}) { id } }'
            },
            headers=AUTH,
        )
        seeded = client.post(PUBLISH, json={"type": "seed", "data": {"k": 1}}, headers=AUTH)
        assert seeded.status_code == 201, seeded.text
        before = _snapshot(client)
        failures = []
        for row in ROWS:
            response = client.request(row.method, row.path, content=row.body, headers=row.headers)
            code, message = _error(response)
            if (response.status_code, code) != (row.status, row.code):
                expected = (row.status, row.code)
                failures.append(
                    f"{row.name}: got {response.status_code, code}, expected {expected}"
                )
            elif row.names is not None and row.names not in message:
                failures.append(f"{row.name}: {message!r} does not name {row.names!r}")
        assert not failures, "\n".join(failures)
        assert _snapshot(client) == before


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def _answer(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass  # reset while we were still sending: refused as well
    return data


def test_enormous_query_string_is_431(strict_server: str) -> None:
    with socket.create_connection(_address(strict_server)) as sock:
        path = b"/api/events?filter=" + b"a" * 1_000_000
        with contextlib.suppress(OSError):
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        data = _answer(sock)
    assert data == b"" or data.startswith(b"HTTP/1.1 431"), data[:100]
    if data:
        assert b"REQUEST_HEADER_FIELDS_TOO_LARGE" in data


def test_slow_publish_body_is_408_and_stores_nothing(strict_server: str) -> None:
    with httpx.Client(base_url=strict_server, timeout=30) as client:
        before = _snapshot(client)
        with socket.create_connection(_address(strict_server)) as sock:
            sock.sendall(
                f"POST {PUBLISH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_SECRET}\r\n"
                "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n".encode()
            )
            for chunk in (b'{"data"', b": {"):
                sock.sendall(chunk)
                time.sleep(1.5)
            data = _answer(sock)
        assert data.startswith(b"HTTP/1.1 408"), data[:100]
        assert _snapshot(client) == before


async def test_a_websocket_message_repeating_a_key_closes_the_socket(strict_server: str) -> None:
    """graphql-transport-ws messages go through the same decoder: a repeated key is not
    JSON the server accepts (4400), so no subscription starts on a value it did not see."""
    url = strict_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {ADMIN_SECRET}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            '{"id": "1", "type": "subscribe", "payload": {"query":'
            ' "subscription { events { id } }", "query": "subscription { events { type } }"}}'
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400, closed.value.rcvd
