"""The request cost budget of GraphQL operations, checked after validation and before any
resolver runs (SPEC §8: "cost limit after fragment expansion").

Every connection field (one with a ``first`` argument) costs its page size (at least
``MIN_FILTERED_ROWS`` for a filtered top-level field) times the cost of its ``filter``
(``app.events.cost.filter_cost``), times the page sizes of the connections it is nested
in; the operation's cost is the sum over every field and alias, with fragments expanded.
Arguments are coerced exactly as execution will coerce them; a field whose arguments do
not coerce counts as unfiltered and execution reports the error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.execution import ExecutionContext

from app.errors import BadInput, EventgraphError
from app.events.cost import BASE_COST, charged_rows, check_cost, filter_cost

_DEFINITION = "strawberry-definition"


class _Walk:
    """One operation's cost; a fragment's cost per unit of multiplier is computed once."""

    def __init__(
        self,
        execution: ExecutionContext,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        default_page: int,
        max_page: int,
    ) -> None:
        self.execution = execution
        self.schema: GraphQLSchema = execution.schema._schema
        self.fragments = fragments
        self.variables = variables
        self.default_page = default_page
        self.max_page = max_page
        self._fragment_costs: dict[str, int] = {}
        self._filter_costs: dict[int, tuple[Any, int]] = {}

    def selection_cost(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        """Cost of one parent object's selections (multiplier 1)."""
        if selection_set is None or not isinstance(parent, GraphQLNamedType):
            return 0
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_def = fields.get(selection.name.value)
                if field_def is None:
                    continue
                page, row_cost = self._connection(field_def, selection)
                inner = self.selection_cost(selection.selection_set, get_named_type(field_def.type))
                # A nested connection reads its parent's rows by key; a top-level one may
                # scan the table (app.events.cost.charged_rows).
                rows = charged_rows(page, row_cost) if parent is self.schema.query_type else page
                total += rows * row_cost + page * inner if page else inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> int:
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        if name not in self._fragment_costs:
            self._fragment_costs[name] = 0  # a cycle (refused by validation anyway) costs 0
            target = self.schema.get_type(fragment.type_condition.name.value)
            self._fragment_costs[name] = self.selection_cost(fragment.selection_set, target)
        return self._fragment_costs[name]

    def _connection(self, field_def: GraphQLField, node: FieldNode) -> tuple[int, int]:
        """(page size, cost per row) of a connection field; (0, 0) for any other field."""
        if "first" not in field_def.args:
            return 0, 0
        try:
            raw = get_argument_values(field_def, node, self.variables)
        except GraphQLError:
            return self.default_page, BASE_COST
        size = raw.get("first") or raw.get("last")
        page = min(size, self.max_page) if isinstance(size, int) and size > 0 else 0
        page = page or self.default_page
        definition = field_def.extensions.get(_DEFINITION)
        if "filter" not in raw or definition is None:
            return page, BASE_COST
        # Aliases that pass one variable share its value: convert it once, not per alias.
        known = self._filter_costs.get(id(raw["filter"]))
        if known is not None and known[0] is raw["filter"]:
            return page, known[1]
        row_cost = self._filter_cost(definition, raw["filter"])
        self._filter_costs[id(raw["filter"])] = (raw["filter"], row_cost)
        return page, row_cost

    def _filter_cost(self, definition: Any, raw_filter: Any) -> int:
        schema = self.execution.schema
        try:
            kwargs = convert_arguments(
                {"filter": raw_filter},
                [arg for arg in definition.arguments if arg.python_name == "filter"],
                scalar_registry=schema.schema_converter.scalar_registry,
                config=schema.config,
            )
            value = kwargs.get("filter")
            return filter_cost(value.to_query("filter")) if value else BASE_COST
        except (EventgraphError, GraphQLError, ValueError, TypeError):
            return BASE_COST


def operation_cost(execution: ExecutionContext, *, default_page: int, max_page: int) -> int | None:
    """The cost of the operation about to run, or ``None`` when execution will refuse it
    anyway (no single operation, variables that do not coerce)."""
    document: DocumentNode | None = execution.graphql_document
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = execution.operation_name
    chosen = [op for op in operations if name is None or (op.name and op.name.value == name)]
    if len(chosen) != 1:
        return None
    operation = chosen[0]
    root = execution.schema._schema.get_root_type(operation.operation)
    if root is None:
        return None
    variables = get_variable_values(
        execution.schema._schema,
        operation.variable_definitions or (),
        execution.variables or {},
    )
    if isinstance(variables, list):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(execution, fragments, variables, default_page, max_page)
    return walk.selection_cost(operation.selection_set, root)


class CostBudget(SchemaExtension):
    """Refuses an operation over ``settings.max_request_cost`` with ``BAD_USER_INPUT``
    before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        settings = getattr(execution.context, "settings", None)
        if settings is not None:
            cost = operation_cost(
                execution,
                default_page=settings.page_size_default,
                max_page=settings.max_page_size,
            )
            if cost is not None:
                try:
                    check_cost(cost, settings.max_request_cost)
                except BadInput as error:
                    execution.result = ExecutionResult(
                        None, [GraphQLError(error.message, original_error=error)]
                    )
        yield
