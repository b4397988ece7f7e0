"""Each operation on a WebSocket runs with a context of its own.

Strawberry builds one context per connection. This extension replaces it, for every
operation, with ``Context.for_operation()``: the connection's credential is checked again
(so a revoked or expired token cannot keep reading or publishing over an open socket) and
the operation gets fresh loaders (nothing cached outlives the operation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from graphql_schema.context import Context


class OperationContext(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.websocket:
            self.execution_context.context = await context.for_operation()
        yield
