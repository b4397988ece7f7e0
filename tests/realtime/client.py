"""Test clients of real servers: GraphQL over HTTP (httpx) and subscriptions (gql)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.fixtures.app import ADMIN_SECRET
from tests.fixtures.servers import Server

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)
SUBSCRIPTION = (
    "subscription($f: EventFilter, $a: ID, $s: Int)"
    " { events(filter: $f, after: $a, snapshot: $s) { id channelId type data replayed } }"
)


async def graphql(
    server: Server,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = ADMIN_SECRET,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"{server.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def make_channels(server: Server, workspace: str, *channels: tuple[str, bool]) -> None:
    await graphql(
        server,
        "mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { id } }",
        {"i": {"id": workspace, "name": workspace}},
    )
    for channel, private in channels:
        await graphql(
            server,
            "mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }",
            {"i": {"id": channel, "name": channel, "workspaceId": workspace, "private": private}},
        )


async def make_token(server: Server, **fields: Any) -> tuple[str, str]:
    """(secret, token id)"""
    data = await graphql(
        server,
        "mutation($i: CreateTokenInput!) { createToken(input: $i) { secret token { id } } }",
        {"i": {"name": "t", **fields}},
    )
    return data["createToken"]["secret"], data["createToken"]["token"]["id"]


async def publish(server: Server, channel: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
    data = await graphql(
        server,
        "mutation($c: ID!, $e: [EventInput!]!)"
        " { publishEvents(channelId: $c, events: $e) { id type data } }",
        {"c": channel, "e": list(events)},
    )
    rows: list[dict[str, Any]] = data["publishEvents"]
    return rows


class Subscription:
    """A gql subscription over a real WebSocket, collected in the background.

    Entering waits until the server counts one more subscriber, so events published
    afterwards are live for it.
    """

    def __init__(
        self,
        server: Server,
        variables: dict[str, Any] | None = None,
        *,
        protocol: str = TRANSPORT_WS,
        token: str | None = ADMIN_SECRET,
        via: str = "header",
        query: str = SUBSCRIPTION,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token and via == "header" else None
        payload = {"Authorization": f"Bearer {token}"} if token and via == "payload" else None
        self.server = server
        self.transport = WebsocketsTransport(
            url=server.ws, headers=headers, init_payload=payload, subprotocols=[protocol]
        )
        self.request = GraphQLRequest(query, variable_values=variables or {})
        self.items: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client = Client(transport=self.transport)

    async def __aenter__(self) -> Subscription:
        before = self.server.metric("eventgraph_stream_subscribers")
        session = await self._client.connect_async()
        self._task = asyncio.create_task(self._collect(session))
        deadline = time.monotonic() + 30
        while self.server.metric("eventgraph_stream_subscribers") <= before:
            if self.done.is_set():
                break
            assert time.monotonic() < deadline, "the server never registered the subscriber"
            await asyncio.sleep(0.05)
        return self

    async def _collect(self, session: Any) -> None:
        try:
            async for result in session.subscribe(self.request):
                self.items.append(result["events"])
        except TransportQueryError as exc:
            self.error = exc.errors[0] if exc.errors else {"message": str(exc)}
        except Exception as exc:  # a transport failure: surfaced as an error without a code
            self.error = {"message": repr(exc), "extensions": {}}
        finally:
            self.done.set()

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.close_async()

    async def wait_for(self, count: int, seconds: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(self.items) < count and not self.done.is_set():
            assert time.monotonic() < deadline, f"{len(self.items)} of {count} events arrived"
            await asyncio.sleep(0.02)
        return self.items

    async def quiet(self, seconds: float = 1.0) -> list[dict[str, Any]]:
        """What arrived after waiting ``seconds`` (for "nothing more arrives")."""
        await asyncio.sleep(seconds)
        return self.items
