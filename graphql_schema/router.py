"""``/graphql``: POST, GET, WebSocket (graphql-transport-ws and graphql-ws), GraphiQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Depends
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from app.auth.credentials import SESSION_COOKIE, connection_params_secret, request_secret
from app.auth.principal import Principal
from app.auth.tokens import authenticate
from app.errors import EventgraphError
from app.settings import Settings
from app.state import app_state
from graphql_schema.context import Context
from graphql_schema.schema import schema


def _presented_secret(connection: HTTPConnection) -> str | None:
    """The secret of the upgrade request, or None (absent or malformed)."""
    try:
        return request_secret(
            authorization=connection.headers.get("authorization"),
            session_cookie=connection.cookies.get(SESSION_COOKIE),
        )
    except EventgraphError:
        return None


async def resolve_principal(
    connection: HTTPConnection, settings: Settings
) -> tuple[Principal | None, EventgraphError | None]:
    """The caller of an HTTP request or WebSocket upgrade, or the error its credential gives."""
    state = app_state(connection)
    try:
        secret = request_secret(
            authorization=connection.headers.get("authorization"),
            session_cookie=connection.cookies.get(SESSION_COOKIE),
        )
        principal = await authenticate(db=state.db, settings=settings, secret=secret)
    except EventgraphError as error:
        return None, error
    return principal, None


class TextFrames(ASGIWebSocketAdapter):
    """Every WebSocket message as a text frame: graphql-ws clients reject binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class EventgraphRouter(GraphQLRouter[Context, None]):
    websocket_adapter_class = TextFrames

    def encode_json(self, data: object) -> bytes:
        # Results hold only JSON-native values (scalars are serialised already).
        return orjson.dumps(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """``connection_init``: a credential in the payload replaces the upgrade's; a bad
        credential either way refuses the connection (4403), never falls back to anonymous."""
        try:
            secret = connection_params_secret(context.connection_params)
            if secret is not None:
                await context.sign_in(secret)
            elif context.auth_error is not None:
                raise context.auth_error
        except EventgraphError as error:
            raise ConnectionRejectionError({"message": error.message, "code": error.code}) from None
        unset: UnsetType = UNSET
        return unset


def create_graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    """The GraphQL router that ``app.main`` mounts at ``/graphql``."""

    async def get_context(connection: HTTPConnection) -> Context:
        state = app_state(connection)
        principal, error = await resolve_principal(connection, settings)
        websocket = isinstance(connection, WebSocket)
        return Context(
            settings=state.settings,
            db=state.db,
            delivery=state.delivery,
            hub=state.hub,
            principal=principal,
            auth_error=error,
            secret=_presented_secret(connection) if websocket else None,
            websocket=websocket,
        )

    context_dependency: Any = Depends(get_context)

    async def context_getter(context: Context = context_dependency) -> Context:
        return context

    return EventgraphRouter(
        schema,
        context_getter=context_getter,
        graphql_ide="graphiql",
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        keep_alive=True,  # legacy graphql-ws "ka" messages
        keep_alive_interval=settings.ws_ping_seconds,
    )
