"""``publishEvents`` without the general executor (the realtime harness's publisher and
any client that publishes with a document selecting plain ``Event`` fields).

Served: a mutation whose only root field is ``publishEvents`` (arguments as literals or
variables) selecting scalar ``Event`` fields and ``__typename`` — no relations, fragments
or directives. The document is parsed, validated and planned once (``PlanCache``).
Everything that can go wrong before the publish is attempted (no token, a bad token,
variables that do not coerce) is passed on to Strawberry, which answers it; once the
publish was attempted, its outcome is answered here in Strawberry's shape (the error with
its location and path, ``data`` null, 503 + Retry-After for a busy or unavailable
database) so that a request never runs twice. ``tests/graphql/test_fast_publish.py``
compares the bytes with Strawberry's answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.permission import PermissionExtension

from app.auth.principal import Principal
from app.errors import RETRY_AFTER_SECONDS, EventgraphError
from app.events.publish import publish_events
from app.events.read import NodeField
from app.state import AppState
from db.database import DatabaseUnavailable
from graphql_schema.errors import format_error
from graphql_schema.fast_path.arguments import compile_arguments
from graphql_schema.fast_path.execute import NotServed, render_columns
from graphql_schema.fast_path.fields import ENABLED
from graphql_schema.fast_path.plan import (
    NotPlanned,
    field_nodes,
    operation_of,
    scalar_columns,
)
from graphql_schema.inputs.arguments import given
from graphql_schema.inputs.publish import EventInput
from graphql_schema.permissions import IsAuthenticated
from graphql_schema.schema import RETRYABLE, schema

_FIELD = next(
    field
    for field in schema.get_type_by_name("Mutation").fields  # type: ignore[union-attr]
    if field.python_name == "publish_events"
)
# The resolver's only guard is IsAuthenticated, reproduced below; anything added to the
# field later turns this path off.
SERVED = (
    ENABLED
    and _FIELD.permission_classes == [IsAuthenticated]
    and all(isinstance(extension, PermissionExtension) for extension in _FIELD.extensions)
)
_CONVERT_ARGUMENTS = compile_arguments(
    _FIELD.arguments, schema.schema_converter.scalar_registry, schema.config
)


@dataclass(frozen=True, slots=True)
class PublishPlan:
    operation_name: str | None
    variable_definitions: tuple[object, ...]
    alias: str
    field_node: FieldNode
    field_def: GraphQLField
    columns: tuple[NodeField, ...]


def compile_publish_plan(
    gschema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> PublishPlan | None:
    """The plan of a VALIDATED document, or ``None`` when this path does not serve it."""
    if not SERVED:
        return None
    operation = operation_of(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    mutation: GraphQLObjectType | None = gschema.mutation_type
    if operation.directives or mutation is None:
        return None
    try:
        roots = field_nodes(operation.selection_set, "Mutation")
        if len(roots) != 1 or roots[0].name.value != "publishEvents":
            return None
        root = roots[0]
        selected = scalar_columns(root.selection_set, "Event")
    except NotPlanned:
        return None
    return PublishPlan(
        operation_name=operation.name.value if operation.name else None,
        variable_definitions=tuple(operation.variable_definitions or ()),
        alias=root.alias.value if root.alias else root.name.value,
        field_node=root,
        field_def=mutation.fields["publishEvents"],
        columns=selected,
    )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    ok: bool


async def execute_publish(
    plan: PublishPlan,
    *,
    variables: dict[str, object] | None,
    state: AppState,
    principal: Principal,
) -> Answer:
    """Publish as the resolver does. ``NotServed`` (raised before anything is stored)
    hands the request to Strawberry."""
    if not principal.is_authenticated:
        raise NotServed  # IsAuthenticated's own error, from Strawberry
    coerced = get_variable_values(
        schema._schema,
        plan.variable_definitions,  # type: ignore[arg-type]
        variables or {},
    )
    if isinstance(coerced, list):
        raise NotServed
    try:
        raw = get_argument_values(plan.field_def, plan.field_node, coerced)
        kwargs = _CONVERT_ARGUMENTS(raw)
        events: list[EventInput] = kwargs["events"]
        drafts = [item.to_draft() for item in events]
    except (GraphQLError, EventgraphError, ValueError, TypeError, KeyError):
        raise NotServed from None
    try:
        rows = await publish_events(
            db=state.db,
            settings=state.settings,
            principal=principal,
            delivery=state.delivery,
            channel_id=kwargs["channel_id"],
            drafts=drafts,
            path_prefix="events",
            idempotency_key=given(kwargs.get("idempotency_key")),
        )
    except (EventgraphError, DatabaseUnavailable) as exc:
        return _failed(plan, exc)
    data = {plan.alias: [render_columns(row, plan.columns) for row in rows]}
    return Answer(200, orjson.dumps({"data": data}), (), ok=True)


def _failed(plan: PublishPlan, exc: Exception) -> Answer:
    """Strawberry's answer when the (non-null) root field raised ``exc``."""
    raised = GraphQLError(str(exc), nodes=[plan.field_node], path=[plan.alias], original_error=exc)
    error = format_error(raised, executing=True)
    body = orjson.dumps({"data": None, "errors": [error.formatted]})
    if (error.extensions or {}).get("code") in RETRYABLE:
        return Answer(503, body, ((b"retry-after", RETRY_AFTER_SECONDS.encode()),), ok=False)
    return Answer(200, body, (), ok=False)
