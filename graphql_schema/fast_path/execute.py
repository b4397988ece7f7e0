"""Run a ``Plan``: the same read services as the resolvers, rendered straight to JSON data."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLSchema
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.types.arguments import StrawberryArgument, convert_arguments

from app.auth.principal import Principal
from app.events import read as event_read
from app.events.cost import check_cost, filter_cost
from app.settings import Settings
from db.database import Database
from db.types import format_datetime
from graphql_schema.fast_path.plan import Column, ConnectionPlan, NodePlan, Plan, RelationPlan
from graphql_schema.inputs import arguments as args

Row = Mapping[str, Any]


class NotServed(Exception):
    """Take Strawberry's path instead (bad variables, a client error, anything unusual)."""


def _render_column(row: Row, column: Column) -> Any:
    # JSON arrives decoded, as the resolvers get it: PostgreSQL's jsonb text has other
    # spacing than the encoder, so embedding it would change the bytes of the answer.
    if column.kind == "plain":
        return row[column.key]
    if column.kind == "datetime":
        return format_datetime(row[column.key])
    return column.key  # __typename


def _render_columns(row: Row, columns: Sequence[Column]) -> dict[str, Any]:
    return {column.alias: _render_column(row, column) for column in columns}


def _render_node(row: Row, plan: NodePlan, related: dict[str, dict[str, Row]]) -> dict[str, Any]:
    return {
        field.alias: _render_column(row, field)
        if isinstance(field, Column)
        else _render_relation(row, field, related)
        for field in plan.fields
    }


def _render_relation(
    row: Row, field: RelationPlan, related: dict[str, dict[str, Row]]
) -> dict[str, Any] | None:
    key = row[f"{field.relation}_id"]
    target = related[field.relation].get(key) if key is not None else None
    return None if target is None else _render_columns(target, field.columns)


class ArgumentCache:
    """(connection plan, variables) → its ``EventQuery`` and ``PageRequest``.

    Both are immutable and depend on nothing else, so a repeated request skips variable
    coercion, input conversion and ``to_query()``. Failures are never cached.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[
            tuple[int, bytes], tuple[ConnectionPlan, event_read.EventQuery, event_read.PageRequest]
        ] = OrderedDict()

    def get(
        self, root: ConnectionPlan, key: bytes
    ) -> tuple[event_read.EventQuery, event_read.PageRequest] | None:
        item = self._items.get((id(root), key))
        if item is None or item[0] is not root:
            return None
        self._items.move_to_end((id(root), key))
        return item[1], item[2]

    def put(
        self,
        root: ConnectionPlan,
        key: bytes,
        value: tuple[event_read.EventQuery, event_read.PageRequest],
    ) -> None:
        self._items[(id(root), key)] = (root, *value)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


ARGUMENTS = ArgumentCache()


def _arguments(
    root: ConnectionPlan,
    operation: Plan,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    arguments: list[StrawberryArgument],
    schema_ctx: tuple[Any, Any],
) -> tuple[event_read.EventQuery, event_read.PageRequest]:
    # json, not orjson: variables are decoded by json.loads and may hold what orjson
    # cannot encode or would merge (NaN is not null, big integers, lone surrogates).
    key = json.dumps(variables or {}, sort_keys=True).encode()
    cached = ARGUMENTS.get(root, key)
    if cached is not None:
        return cached
    coerced = get_variable_values(
        schema, operation.operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):
        raise NotServed
    raw = get_argument_values(root.field_def, root.field_node, coerced)
    scalar_registry, config = schema_ctx
    kwargs = convert_arguments(raw, arguments, scalar_registry=scalar_registry, config=config)
    query = args.event_query(kwargs.get("filter"), kwargs.get("order_by"), kwargs.get("ids"))
    page_request = args.page_request(
        kwargs.get("first"), kwargs.get("after"), kwargs.get("last"), kwargs.get("before")
    )
    ARGUMENTS.put(root, key, (query, page_request))
    return query, page_request


async def _run_connection(
    plan: ConnectionPlan,
    query: event_read.EventQuery,
    page_request: event_read.PageRequest,
    *,
    db: Database,
    settings: Settings,
    principal: Principal,
) -> dict[str, Any]:
    scope = principal.read_scope
    page = await event_read.list_events(
        db=db,
        scope=scope,
        query=query,
        page=page_request,
        max_page_size=settings.max_page_size,
        with_total=plan.wants_count,
        related=plan.relations,
    )
    related = page.related
    out: dict[str, Any] = {}
    for part in plan.parts:
        if part.kind == "nodes":
            assert part.node is not None
            node = part.node
            out[part.alias] = [_render_node(row, node, related) for row in page.rows]
        elif part.kind == "edges":
            out[part.alias] = _render_edges(page, part.cursor_aliases, part.node, related)
        elif part.kind == "pageInfo":
            out[part.alias] = {
                alias: "PageInfo" if attr == "__typename" else getattr(page, attr)
                for alias, attr in part.page_info
            }
        elif part.kind == "totalCount":
            out[part.alias] = page.total
        else:
            out[part.alias] = "EventConnection"
    return out


def _render_edges(
    page: event_read.EventPage,
    items: tuple[tuple[str, str], ...],
    node: NodePlan | None,
    related: dict[str, dict[str, Row]],
) -> list[dict[str, Any]]:
    edges = []
    for row, cursor in zip(page.rows, page.cursors, strict=True):
        edge: dict[str, Any] = {}
        for alias, what in items:
            if what == "cursor":
                edge[alias] = cursor
            elif what == "__typename":
                edge[alias] = "EventEdge"
            else:
                assert node is not None
                edge[alias] = _render_node(row, node, related)
        edges.append(edge)
    return edges


async def execute_plan(
    plan: Plan,
    *,
    schema: GraphQLSchema,
    arguments: list[StrawberryArgument],
    schema_ctx: tuple[Any, Any],
    variables: dict[str, Any] | None,
    db: Database,
    settings: Settings,
    principal: Principal,
) -> dict[str, Any]:
    """The ``data`` of the result. Raises ``NotServed`` when the variables don't coerce;
    service errors (``EventgraphError``) propagate so the caller can fall back."""
    requests = [
        (root, *_arguments(root, plan, schema, variables, arguments, schema_ctx))
        for root in plan.roots
    ]
    cost = sum(
        _page_size(page_request, settings) * filter_cost(query.filter)
        for _, query, page_request in requests
    )
    check_cost(cost, settings.max_request_cost)
    data: dict[str, Any] = {}
    for root, query, page_request in requests:
        data[root.alias] = await _run_connection(
            root, query, page_request, db=db, settings=settings, principal=principal
        )
    return data


def _page_size(page_request: event_read.PageRequest, settings: Settings) -> int:
    """The page size the cost budget counts (as ``graphql_schema.cost`` does)."""
    size = page_request.first or page_request.last
    if size is None or size <= 0:
        return settings.page_size_default
    return min(size, settings.max_page_size)
