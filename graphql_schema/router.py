"""``/graphql``: POST, GET, WebSocket (graphql-transport-ws and graphql-ws), GraphiQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

import orjson
from cross_web import HTTPException
from fastapi import Depends
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UNSET, UnsetType

from app.auth.credentials import SESSION_COOKIE, connection_params_secret, request_secret
from app.auth.principal import Principal
from app.auth.tokens import authenticate
from app.errors import BadInput, EventgraphError, ServiceUnavailable, Unauthenticated
from app.json_input import loads
from app.settings import Settings
from app.state import app_state
from db.database import DatabaseUnavailable
from graphql_schema.context import Context
from graphql_schema.graphiql import graphiql_asset, graphiql_page
from graphql_schema.schema import schema
from graphql_schema.subscription.direct import DATA, FRAMES, Frames

TRANSPORT_ERROR_CODE = "BAD_REQUEST"
"""``extensions.code`` of a request refused before execution (Apollo Server's code)."""


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
        if not (principal.is_authenticated or settings.allow_anonymous):
            raise Unauthenticated(
                "anonymous GraphQL reads are turned off on this server"
                " (EVENTGRAPH_ALLOW_ANONYMOUS=false): send a token"
            )
    except EventgraphError as error:
        return None, error
    except DatabaseUnavailable as exc:
        return None, ServiceUnavailable(f"{exc}; retry shortly")
    return principal, None


logger = logging.getLogger(__name__)


class TextFrames(ASGIWebSocketAdapter):
    """Every WebSocket message as a text frame: graphql-ws clients reject binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.send_text(orjson.dumps(message).decode())

    async def send_text(self, text: str) -> None:
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
        except RuntimeError as exc:
            # uvicorn refuses a send once it has seen the connection close (a ping timeout,
            # a reset) and the operation's task ran before the receive loop could stop it.
            raise WebSocketDisconnected from exc


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # The operation's task: its rendered events may be written directly (direct.py).
        message = {"id": operation.id, "type": "next", "payload": {"data": DATA}}
        FRAMES.set(Frames(cast(TextFrames, self.websocket).send_text, message))
        await super().run_operation(operation)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):
            # A client that vanished mid-send is normal; Strawberry would log an ERROR.
            logger.debug("WebSocket client gone while sending: %r", error.__cause__)
            return
        await super().handle_task_exception(error)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        # The operation's task, as in TransportWSHandler.run_operation.
        message = {"type": "data", "id": operation_id, "payload": {"data": DATA}}
        FRAMES.set(Frames(cast(TextFrames, self.websocket).send_text, message))
        await super().handle_async_results(operation_id, query, operation_name, variables)


class EventgraphRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, with its transport errors in the GraphQL-over-HTTP shape,
    every WebSocket message as a text frame, and a vanished client not logged as an error."""

    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def parse_json(self, data: str | bytes) -> Any:
        """HTTP bodies and GET ``variables``: strict JSON within the limits, or a 400."""
        try:
            value = loads(data)
        except BadInput as error:
            raise HTTPException(400, error.message) from None
        # Strawberry reads fields off whatever the body decodes to: a bare string or number
        # would be an AttributeError (a 500) further on.
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return value

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: a refused one closes the socket as a non-JSON message."""
        try:
            return loads(data)
        except BadInput as error:
            raise json.JSONDecodeError(error.message, "", 0) from None

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

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()  # served from the process, not a CDN

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Context | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        except HTTPException as error:
            return transport_error(error, method=request.scope.get("method", ""))


def transport_error(error: HTTPException, *, method: str) -> Response:
    """A request Strawberry refuses before execution, as ``{"errors": [...]}`` JSON.

    A mutation over GET is 405 with ``Allow: POST``; everything else keeps Strawberry's
    status (400 for a body, content type or operation it cannot use)."""
    status, headers = error.status_code, {}
    if method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
        status, headers = 405, {"Allow": "POST"}
    body = {"errors": [{"message": error.reason, "extensions": {"code": TRANSPORT_ERROR_CODE}}]}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def create_graphql_router(settings: Settings) -> EventgraphRouter:
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

    router = EventgraphRouter(
        schema,
        # The router's own prefix (not include_router's) so scope["route"] carries the full
        # template that metrics label requests with.
        prefix="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql",
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        keep_alive=True,  # legacy graphql-ws "ka" messages
        keep_alive_interval=settings.ws_ping_seconds,
    )
    router.add_api_route("/assets/{name}", graphiql_asset, include_in_schema=False)
    return router
