"""Counts every operation Strawberry executes, by operation name, type and outcome."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.observability.metrics import record_graphql_operation


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except RuntimeError:  # the document did not parse or names no operation
            operation_type = "unknown"
        result = context.result
        ok = result is not None and not getattr(result, "errors", None)
        record_graphql_operation(context.operation_name, operation_type=operation_type, ok=ok)
