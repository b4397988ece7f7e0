"""Hostile inputs against the real server (uvicorn subprocess): each row has the exact
status and error code expected, and no refused request stores or changes an event."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

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


def _gql(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


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
]


def _code(response: httpx.Response) -> str | None:
    body = response.json()
    if "error" in body:
        code: str = body["error"]["code"]
        return code
    return str(body["errors"][0]["extensions"]["code"])


def _snapshot(client: httpx.Client) -> list[dict[str, Any]]:
    query = "{ events(first: 100) { totalCount nodes { id type data meta subjectId } } }"
    response = client.post("/graphql", json={"query": query}, headers=AUTH)
    nodes: list[dict[str, Any]] = response.json()["data"]["events"]["nodes"]
    return nodes


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
            got = (response.status_code, _code(response))
            if got != (row.status, row.code):
                failures.append(f"{row.name}: got {got}, expected {(row.status, row.code)}")
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
