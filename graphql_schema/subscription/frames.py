"""The executor hook that lets a subscription event skip execution when it is rendered.

A subscription whose selection set the renderer serves (``render.py``) yields a
``Rendered`` instead of an ``Event``: the result's ``data``, encoded once per event and
selection set and shared by every subscriber that selected the same fields. The executor
returns it as the event's result without executing the selection set; ``orjson`` embeds
the fragment as is when the transport encodes its ``next`` message. Every other root value
(queries, mutations, subscriptions the renderer does not serve) executes as usual.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from graphql import ExecutionResult
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Rendered:
    """One event's ``data`` for one selection set, already encoded as JSON."""

    __slots__ = ("data",)

    def __init__(self, data: orjson.Fragment) -> None:
        self.data = data


class RenderedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        root = self.root_value
        if isinstance(root, Rendered):
            # ``data`` is a dict for graphql-core; an encoded fragment is what the
            # transports (orjson) need, and nothing in between reads it.
            return ExecutionResult(data=cast(dict[str, Any], root.data))
        return super().execute_operation(serially)
