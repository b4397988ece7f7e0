"""Run a ``Plan``: the same read services as the resolvers, rendered straight to JSON data."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from graphql import GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.types.arguments import StrawberryArgument, convert_arguments

from app.auth.principal import Principal
from app.events import read as event_read
from app.events.cost import check_cost, top_level_cost
from app.events.read import NodeField, NodeRelation
from app.settings import Settings
from db.database import Database, DatabaseUnavailable
from db.event_fields import RELATION_COLUMNS
from db.types import format_datetime
from graphql_schema.fast_path.plan import ConnectionPlan, NodePlan, Plan
from graphql_schema.inputs import arguments as args

Row = Mapping[str, Any]


class NotServed(Exception):
    """Take Strawberry's path instead (bad variables, a client error, anything unusual)."""


class RootUnavailable(Exception):
    """``error`` met while reading the ``root`` field: statements were sent, so the
    request is answered with it rather than run again by Strawberry."""

    def __init__(self, root: ConnectionPlan, error: DatabaseUnavailable) -> None:
        super().__init__(str(error))
        self.root = root
        self.error = error


def render_column(row: Row, column: NodeField) -> Any:
    if column.kind == "plain":
        return row[column.key]
    if column.kind == "datetime":
        return format_datetime(row[column.key])
    return column.key  # __typename


def render_columns(row: Row, columns: Sequence[NodeField]) -> dict[str, Any]:
    return {column.alias: render_column(row, column) for column in columns}


def _render_node(row: Row, plan: NodePlan, related: dict[str, dict[str, Row]]) -> dict[str, Any]:
    return {
        field.alias: render_column(row, field)
        if isinstance(field, NodeField)
        else _render_relation(row, field, related)
        for field in plan.fields
    }


def _render_relation(
    row: Row, field: NodeRelation, related: dict[str, dict[str, Row]]
) -> dict[str, Any] | None:
    key = row[RELATION_COLUMNS[field.relation]]
    target = related[field.relation].get(key) if key is not None else None
    return None if target is None else render_columns(target, field.fields)


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


class _Variables:
    """One request's variables, encoded and coerced once for all of its root fields; the
    query of a filter value that several aliases share (one variable) is built once."""

    def __init__(self, operation: Plan, schema: GraphQLSchema, variables: dict[str, Any] | None):
        self.operation, self.schema, self.values = operation, schema, variables or {}
        # json, not orjson: variables are decoded by json.loads and may hold what orjson
        # cannot encode or would merge (NaN is not null, big integers, lone surrogates).
        self.key = json.dumps(self.values, sort_keys=True).encode()
        self._coerced: VariableValues | None = None
        self._queries: dict[tuple[int, ...], tuple[tuple[Any, ...], event_read.EventQuery]] = {}

    def coerced(self) -> VariableValues:
        if self._coerced is not None:
            return self._coerced
        definitions = self.operation.operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, self.values)
        if isinstance(coerced, list):
            raise NotServed
        self._coerced = coerced
        return coerced

    def query(self, raw: dict[str, Any], kwargs: dict[str, Any]) -> event_read.EventQuery:
        values = tuple(raw.get(name) for name in ("filter", "orderBy", "ids"))
        key = tuple(map(id, values))
        known = self._queries.get(key)
        if known is not None and all(a is b for a, b in zip(known[0], values, strict=True)):
            return known[1]
        query = args.event_query(kwargs.get("filter"), kwargs.get("order_by"), kwargs.get("ids"))
        self._queries[key] = (values, query)
        return query


def _arguments(
    root: ConnectionPlan,
    variables: _Variables,
    arguments: list[StrawberryArgument],
    schema_ctx: tuple[Any, Any],
) -> tuple[event_read.EventQuery, event_read.PageRequest]:
    cached = ARGUMENTS.get(root, variables.key)
    if cached is not None:
        return cached
    raw = get_argument_values(root.field_def, root.field_node, variables.coerced())
    scalar_registry, config = schema_ctx
    kwargs = convert_arguments(raw, arguments, scalar_registry=scalar_registry, config=config)
    query = variables.query(raw, kwargs)
    page_request = args.page_request(
        kwargs.get("first"), kwargs.get("after"), kwargs.get("last"), kwargs.get("before")
    )
    ARGUMENTS.put(root, variables.key, (query, page_request))
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
        node=plan.node_shape,
    )
    out: dict[str, Any] = {}
    for part in plan.parts:
        if part.kind == "nodes":
            assert part.node is not None
            out[part.alias] = _nodes(page, part.node)
        elif part.kind == "edges":
            out[part.alias] = _render_edges(page, part.cursor_aliases, part.node)
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


def _nodes(page: event_read.EventPage, node: NodePlan) -> list[Any]:
    """The page's nodes: the JSON text PostgreSQL built (the same JSON value; inside
    ``data``/``meta`` with jsonb's spacing and number spelling), spliced as is; else
    rendered from the rows."""
    if page.nodes is not None:
        return [orjson.Fragment(text) for text in page.nodes]
    related = page.related
    return [_render_node(row, node, related) for row in page.rows]


def _render_edges(
    page: event_read.EventPage, items: tuple[tuple[str, str], ...], node: NodePlan | None
) -> list[dict[str, Any]]:
    nodes = _nodes(page, node) if node is not None else [None] * len(page.rows)
    edges = []
    for rendered, cursor in zip(nodes, page.cursors, strict=True):
        edge: dict[str, Any] = {}
        for alias, what in items:
            if what == "cursor":
                edge[alias] = cursor
            elif what == "__typename":
                edge[alias] = "EventEdge"
            else:
                edge[alias] = rendered
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
    service errors (``EventgraphError``, raised before any statement) propagate so the
    caller can fall back; a database failure once reading began is ``RootUnavailable``."""
    shared = _Variables(plan, schema, variables)
    requests = [(root, *_arguments(root, shared, arguments, schema_ctx)) for root in plan.roots]
    cost = sum(
        top_level_cost(_page_size(page_request, settings), query.filter)
        for _, query, page_request in requests
    )
    check_cost(cost, settings.max_request_cost)
    data: dict[str, Any] = {}
    for root, query, page_request in requests:
        try:
            data[root.alias] = await _run_connection(
                root, query, page_request, db=db, settings=settings, principal=principal
            )
        except DatabaseUnavailable as exc:
            raise RootUnavailable(root, exc) from exc
    return data


def _page_size(page_request: event_read.PageRequest, settings: Settings) -> int:
    """The page size the cost budget counts (as ``graphql_schema.cost`` does)."""
    size = page_request.first or page_request.last
    if size is None or size <= 0:
        return settings.page_size_default
    return min(size, settings.max_page_size)
