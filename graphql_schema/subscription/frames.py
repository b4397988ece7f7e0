"""The schema's executor: no reference cycle per operation, and rendered subscription events.

graphql-core (3.3) gives each executor ``async_helpers`` bound to the executor itself: a
reference cycle, so every operation's executor, with its context (the HTTP request and its
body), variables and results, waited for the cyclic GC instead of being freed when the
operation ended. With the raised GC thresholds (``app/lifespan.py``) that garbage piled up:
under 32 KB events, tens of MiB of request bodies (``tests/realtime/test_slow_clients.py``).
Here the helpers reach the executor through a weak reference; it is alive while it runs.

A subscription whose selection set the renderer serves (``render.py``) yields a
``Rendered`` instead of an ``Event``: the result's ``data``, encoded once per event and
selection set and shared by every subscriber that selected the same fields. The executor
returns it as the event's result without copying itself for the event or executing the
selection set (and the schema skips the extensions' per-result hooks for it, see
``schema.py``); ``orjson`` embeds the fragment as is when the transport encodes its
``next`` message. Every other root value (queries, mutations, subscriptions the renderer
does not serve) executes as usual.
"""

from __future__ import annotations

import weakref
from typing import Any, cast

import orjson
from graphql import ExecutionResult, GraphQLResolveInfoHelpers
from graphql.execution import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Rendered:
    """One event's ``data`` for one selection set, already encoded as JSON: ``text`` for
    the direct writer (``direct.py``), ``data`` (the same text) for the executor."""

    __slots__ = ("data", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = orjson.Fragment(text)


class _Weak:
    """A method of an executor, called through a weak reference to it."""

    __slots__ = ("_name", "_owner")

    def __init__(self, owner: object, name: str) -> None:
        self._owner = weakref.ref(owner)
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._owner(), self._name)(*args, **kwargs)


class RenderedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_Weak(self, "gather_async_work"), track=_Weak(self, "track_async_work")
        )

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        if isinstance(payload, Rendered):
            return cast(Executor[Any], _RenderedEvent(payload))
        return super().build_per_event_executor(payload)


class _RenderedEvent:
    """What graphql-core runs for a rendered event: its result, as is."""

    __slots__ = ("_result",)

    def __init__(self, rendered: Rendered) -> None:
        # ``data`` is a dict for graphql-core; an encoded fragment is what the
        # transports (orjson) need, and nothing in between reads it.
        self._result = ExecutionResult(data=cast(dict[str, Any], rendered.data))

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self._result


def is_rendered(result: ExecutionResult) -> bool:
    return isinstance(result.data, orjson.Fragment)
