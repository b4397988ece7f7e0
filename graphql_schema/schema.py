"""The Strawberry schema: roots, hardening extensions and caches."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult as StrawberryResult

from app.errors import RETRY_AFTER_SECONDS
from db.database import DatabaseUnavailable, StatementTimeout
from graphql_schema.cost import CostBudget
from graphql_schema.errors import format_errors
from graphql_schema.hardening import MAX_TOKENS, DocumentLimits
from graphql_schema.metrics import OperationMetrics
from graphql_schema.mutation import Mutation
from graphql_schema.operation_context import OperationContext
from graphql_schema.query import Query
from graphql_schema.scalars import SCALARS
from graphql_schema.subscription import Subscription
from graphql_schema.subscription.frames import RenderedEventExecutor, is_rendered


class EventgraphSchema(strawberry.Schema):
    async def _handle_execution_result(
        self,
        context: ExecutionContext,
        result: Any,
        extensions_runner: SchemaExtensionsRunner,
        *,
        skip_process_errors: bool = False,
    ) -> StrawberryResult:
        """A rendered subscription event has no errors, and no extension here adds results
        (none defines ``get_results``): it skips the per-result hooks (seven awaits per
        event and subscriber)."""
        if isinstance(result, GraphQLExecutionResult) and is_rendered(result):
            context.result = StrawberryResult(data=result.data, errors=None)
            return context.result
        return await super()._handle_execution_result(
            context, result, extensions_runner, skip_process_errors=skip_process_errors
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Strawberry's hook for every result's errors (parse, validation, execution).

        Rewritten in place with codes (see ``errors.format_error``, which also logs the
        unexpected ones). Execution has begun once the context holds a result, so a pathless
        error from then on is a variable value that could not be coerced.
        """
        executing = execution_context is not None and execution_context.result is not None
        format_errors(errors, executing=executing)
        if execution_context is not None and any(
            (error.extensions or {}).get("code") in RETRYABLE for error in errors
        ):
            _retry_later(execution_context.context)


RETRYABLE = frozenset({DatabaseUnavailable.code, StatementTimeout.code})


def _retry_later(context: object) -> None:
    """A busy or unavailable database, or a statement past its time budget, answers HTTP
    503 + Retry-After, as REST does, so clients and proxies retry; the GraphQL body still
    carries the error and its code."""
    response = getattr(context, "response", None)
    if response is not None:
        response.status_code = 503
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS


schema = EventgraphSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        OperationContext,
        OperationMetrics,
        DocumentLimits,
        CostBudget,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
    ],
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
    execution_context_class=RenderedEventExecutor,
)
