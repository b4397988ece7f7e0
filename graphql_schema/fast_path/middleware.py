"""ASGI middleware serving planned ``POST /graphql`` queries without the general executor
(and refusing NUL characters in any GraphQL request).

Parsing, validation (the schema's own rules and document limits) and planning run once
per distinct document; a request then costs one SQL statement per connection page (plus
one per selected relation, and a COUNT only when ``totalCount`` is selected) and one JSON
encoding. Everything else — other documents, bad variables, client errors — is passed on
to Strawberry with the request body replayed, so both paths answer identically; the
exception is a database failure once a statement was sent, answered here in Strawberry's
shape so that the request never runs twice.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import orjson
from cross_web import HTTPException, StarletteRequestAdapter
from graphql import GraphQLError, parse, specified_rules, validate
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.fastapi import GraphQLRouter

from app.asgi_body import read_body, replay
from app.asgi_responses import send_json
from app.auth.principal import Principal
from app.errors import RETRY_AFTER_SECONDS, EventgraphError
from app.observability.metrics import record_fast_path, record_graphql_operation
from app.state import AppState, app_state
from db.database import DatabaseUnavailable
from db.types import contains_nul
from graphql_schema.errors import format_error
from graphql_schema.fast_path.execute import NotServed, RootUnavailable, execute_plan
from graphql_schema.fast_path.plan import Plan, compile_plan
from graphql_schema.fast_path.publish import PublishPlan, compile_publish_plan, execute_publish
from graphql_schema.hardening import MAX_TOKENS, RULES
from graphql_schema.router import resolve_principal
from graphql_schema.schema import schema

logger = logging.getLogger(__name__)

_GRAPHQL_ROUTE = SimpleNamespace(path="/graphql")
_CACHE_SIZE = 512
_EVENTS_ARGUMENTS = next(
    field.arguments
    for field in schema.get_type_by_name("Query").fields  # type: ignore[union-attr]
    if field.python_name == "events"
)
_SCHEMA_CTX = (schema.schema_converter.scalar_registry, schema.config)
_RULES = (*specified_rules, *RULES)


class PlanCache:
    """LRU of (query, operationName) → ``Plan``, ``PublishPlan`` or ``None`` (not served)."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[str, str | None], Plan | PublishPlan | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> Plan | PublishPlan | None:
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = self._compile(query, operation_name)
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan

    @staticmethod
    def _compile(query: str, operation_name: str | None) -> Plan | PublishPlan | None:
        gschema = schema._schema
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError:
            return None
        if validate(gschema, document, _RULES):
            return None
        return compile_plan(gschema, document, operation_name) or compile_publish_plan(
            gschema, document, operation_name
        )


class FastQueryMiddleware:
    """``view`` is the GraphQL router: its own request parsing decides what is a GraphQL
    request (content type, JSON body, field types), so a body Strawberry refuses is
    refused here too — by Strawberry, on the general path."""

    def __init__(self, app: ASGIApp, *, view: GraphQLRouter[Any, Any], enabled: bool) -> None:
        self.app = app
        self.view = view
        self.enabled = enabled
        self.plans = PlanCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != "/graphql":
            await self.app(scope, receive, send)
            return
        # Label for metrics: answers given here (NUL errors, the fast path) never reach routing.
        scope["route"] = _GRAPHQL_ROUTE
        if scope["method"] != "POST":
            if b"%00" in scope.get("query_string", b""):
                await send_json(send, _NUL_ERROR)
                return
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if _has_nul(body):
            await send_json(send, _NUL_ERROR)
            return
        if self.enabled and await self._serve(scope, body, send):
            return
        await self.app(scope, replay(body, receive), send)

    async def _serve(self, scope: Scope, body: bytes, send: Send) -> bool:
        connection = Request(scope, replay(body, _disconnected))
        try:
            request = await self.view.parse_http_body(StarletteRequestAdapter(connection))
        except (HTTPException, json.JSONDecodeError):
            return False
        if isinstance(request, list) or request.query is None:
            return False
        name, variables = request.operation_name, request.variables
        if not isinstance(name, str | None):
            return False
        plan = self.plans.get(request.query, name)
        if plan is None:
            return False
        state = app_state(connection)
        principal, error = await resolve_principal(connection, state.settings)
        if principal is None or error is not None:
            return False
        if isinstance(plan, PublishPlan):
            return await _publish(plan, variables, state, principal, send)
        try:
            data = await execute_plan(
                plan,
                schema=schema._schema,
                arguments=_EVENTS_ARGUMENTS,
                schema_ctx=_SCHEMA_CTX,
                variables=variables,
                db=state.db,
                settings=state.settings,
                principal=principal,
            )
        except (NotServed, EventgraphError, GraphQLError, DatabaseUnavailable):
            return False  # raised before any page was read: Strawberry answers the same
        except RootUnavailable as failed:
            # A statement was sent (it failed or ran out of time): answer as Strawberry
            # would rather than have it run the request, and spend its budget, again.
            record_graphql_operation(plan.operation_name, operation_type="query", ok=False)
            await _send_unavailable(send, failed)
            return True
        record_graphql_operation(plan.operation_name, operation_type="query", ok=True)
        record_fast_path("graphql")
        await send_json(send, orjson.dumps({"data": data}))
        return True


async def _publish(
    plan: PublishPlan, variables: Any, state: AppState, principal: Principal, send: Send
) -> bool:
    try:
        answer = await execute_publish(plan, variables=variables, state=state, principal=principal)
    except NotServed:
        return False
    record_graphql_operation(plan.operation_name, operation_type="mutation", ok=answer.ok)
    record_fast_path("graphql")
    await send_json(send, answer.body, status=answer.status, headers=answer.headers)
    return True


async def _send_unavailable(send: Send, failed: RootUnavailable) -> None:
    """Strawberry's answer when a root field meets a database failure: ``data`` null (the
    field is non-null), the error with its location and path, 503 + Retry-After."""
    root, exc = failed.root, failed.error
    raised = GraphQLError(str(exc), nodes=[root.field_node], path=[root.alias], original_error=exc)
    error = format_error(raised, executing=True)
    body = orjson.dumps({"data": None, "errors": [error.formatted]})
    await send_json(
        send, body, status=503, headers=[(b"retry-after", RETRY_AFTER_SECONDS.encode())]
    )


# PostgreSQL cannot store or compare text holding NUL; refusing it at the door keeps
# every resolver (ids, filters, payloads, names) from reaching the database with it.
_NUL_ERROR = orjson.dumps(
    {
        "data": None,
        "errors": [
            {
                "message": "text must not contain NUL (\\u0000) characters",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }
)


def _has_nul(body: bytes) -> bool:
    if b"\\u0000" not in body and b"\x00" not in body:
        return False
    try:
        return contains_nul(orjson.loads(body))
    except orjson.JSONDecodeError:
        return b"\x00" in body


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
