"""Compile a validated document into a plan, when it has the shape the fast path serves.

Served: a query operation whose root fields are all ``events(...)`` connections selecting
``nodes`` / ``edges { cursor node }`` / ``pageInfo`` / ``totalCount`` / ``__typename``, where
a node selects scalar fields and ``parent`` / ``channel`` / ``workspace`` with scalar
fields. No fragments, no directives, no ``children``, no relation selected twice with
other fields: anything else returns ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from app.events.read import (
    NodeField,
    NodeRelation,
    NodeShape,
    Related,
    Relation,
    related_columns,
)
from graphql_schema.fast_path.fields import ENABLED, GUARDED, RELATIONS, SCALARS

ConnectionPart = Literal["nodes", "edges", "pageInfo", "totalCount", "__typename"]

PAGE_INFO = {
    "hasNextPage": "has_next_page",
    "hasPreviousPage": "has_previous_page",
    "startCursor": "start_cursor",
    "endCursor": "end_cursor",
}


@dataclass(frozen=True, slots=True)
class NodePlan:
    """Output keys in selection order, each once (the shape the database may build too)."""

    fields: NodeShape


@dataclass(frozen=True, slots=True)
class Part:
    """One selection of the connection: its alias, kind and what it selects."""

    alias: str
    kind: ConnectionPart
    node: NodePlan | None = None
    cursor_aliases: tuple[tuple[str, str], ...] = ()  # edges: (alias, "cursor"|"node"|typename)
    page_info: tuple[tuple[str, str], ...] = ()  # (alias, attribute or "__typename")


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    alias: str
    field_node: FieldNode
    field_def: GraphQLField
    parts: tuple[Part, ...]
    relations: Related
    """The relations the nodes select, with the target columns they render."""
    node_shape: NodeShape | None
    """The node as the database may build its JSON (``None``: rendered here only)."""

    @property
    def wants_count(self) -> bool:
        return any(part.kind == "totalCount" for part in self.parts)


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    operation_name: str | None
    roots: tuple[ConnectionPlan, ...]


class NotPlanned(Exception):
    """The document is outside the fast path's shape."""


def field_nodes(selection_set: SelectionSetNode | None, type_name: str) -> list[FieldNode]:
    if selection_set is None:
        raise NotPlanned
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotPlanned
        if (type_name, selection.name.value) in GUARDED:
            raise NotPlanned
        fields.append(selection)
    return fields


def _alias(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _column(node: FieldNode, type_name: str) -> NodeField:
    name = node.name.value
    if name == "__typename":
        return NodeField(_alias(node), type_name, "typename")
    if name in SCALARS[type_name] and not node.arguments:
        key, kind = SCALARS[type_name][name]
        return NodeField(_alias(node), key, kind)
    raise NotPlanned


def scalar_columns(selection_set: SelectionSetNode | None, type_name: str) -> tuple[NodeField, ...]:
    return tuple(_column(node, type_name) for node in field_nodes(selection_set, type_name))


_Item = TypeVar("_Item", NodeField, NodeField | NodeRelation)


def _unique(items: list[_Item]) -> tuple[_Item, ...]:
    """One item per key, in first-seen order: a field selected twice is one key of the
    answer (validation and ``_node`` leave only identical repeats)."""
    seen: dict[str, _Item] = {}
    for item in items:
        seen.setdefault(item.alias, item)
    return tuple(seen.values())


def _node(selection_set: SelectionSetNode | None) -> NodePlan:
    fields: list[NodeField | NodeRelation] = []
    for node in field_nodes(selection_set, "Event"):
        name = node.name.value
        if name in RELATIONS and not node.arguments:
            relation, type_name = RELATIONS[name]
            columns = list(scalar_columns(node.selection_set, type_name))
            fields.append(NodeRelation(_alias(node), relation, _unique(columns)))
        else:
            fields.append(_column(node, "Event"))
    relations = [field for field in fields if isinstance(field, NodeRelation)]
    if len({field.alias for field in relations}) != len(set(relations)):
        raise NotPlanned  # one relation selected twice with other fields: GraphQL merges them
    return NodePlan(_unique(fields))


def _part(node: FieldNode) -> Part:
    name, alias = node.name.value, _alias(node)
    if name == "__typename":
        return Part(alias, "__typename")
    if name == "totalCount":
        return Part(alias, "totalCount")
    if name == "nodes":
        return Part(alias, "nodes", node=_node(node.selection_set))
    if name == "pageInfo":
        items = []
        for sub in field_nodes(node.selection_set, "PageInfo"):
            sub_name = sub.name.value
            if sub_name == "__typename":
                items.append((_alias(sub), "__typename"))
            elif sub_name in PAGE_INFO:
                items.append((_alias(sub), PAGE_INFO[sub_name]))
            else:
                raise NotPlanned
        return Part(alias, "pageInfo", page_info=tuple(items))
    if name == "edges":
        edge_items: list[tuple[str, str]] = []
        node_plan: NodePlan | None = None
        for sub in field_nodes(node.selection_set, "EventEdge"):
            sub_name = sub.name.value
            if sub_name in ("cursor", "__typename"):
                edge_items.append((_alias(sub), sub_name))
            elif sub_name == "node" and node_plan is None:
                node_plan = _node(sub.selection_set)
                edge_items.append((_alias(sub), "node"))
            else:
                raise NotPlanned
        return Part(alias, "edges", node=node_plan, cursor_aliases=tuple(edge_items))
    raise NotPlanned


def _relations(parts: tuple[Part, ...]) -> Related:
    wanted: dict[Relation, set[str]] = {}
    for part in parts:
        for field in part.node.fields if part.node is not None else ():
            if isinstance(field, NodeRelation):
                keys = {c.key for c in field.fields if c.kind != "typename"}
                wanted.setdefault(field.relation, set()).update(keys)
    return related_columns(wanted)


def _node_shape(parts: tuple[Part, ...]) -> NodeShape | None:
    """The node's JSON shape for the database to build, when the parts select one node."""
    nodes = {part.node for part in parts if part.node is not None}
    return next(iter(nodes)).fields if len(nodes) == 1 else None


def operation_of(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation ``operation_name`` picks, or ``None`` (also when there are fragments)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != len(document.definitions):
        return None  # fragments
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    named = [op for op in operations if op.name and op.name.value == operation_name]
    return named[0] if len(named) == 1 else None


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of a VALIDATED document, or ``None`` when the fast path does not serve it."""
    if not ENABLED:
        return None
    operation = operation_of(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY or operation.directives:
        return None
    query_type: GraphQLObjectType | None = schema.query_type
    if query_type is None:
        return None
    try:
        roots = []
        for node in field_nodes(operation.selection_set, "Query"):
            if node.name.value != "events":
                return None
            parts = tuple(_part(sub) for sub in field_nodes(node.selection_set, "EventConnection"))
            field = query_type.fields["events"]
            roots.append(
                ConnectionPlan(
                    _alias(node), node, field, parts, _relations(parts), _node_shape(parts)
                )
            )
    except NotPlanned:
        return None
    name = operation.name.value if operation.name else None
    return Plan(operation, name, tuple(roots))
