"""Live delivery for generated filters and scopes == the query engine's answer.

The filters come from the strategies of the SQL-vs-memory differential test (the whole
AST, relations included); each one is a live stream in-process, the varied dataset is then
committed, and every stream must deliver exactly the events that the SQL engine selects
for that filter and scope, in ``seq`` order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.principal import ADMIN, ANONYMOUS, Principal
from app.errors import BadInput
from app.realtime.streams import StreamEvent, open_stream
from app.state import AppState
from db.query.ast import And, Compare, Filter, Not, Or
from db.query.scope import ReadScope
from tests.db.test_filter_differential import SCOPES, STRINGS, _setup, _sql, event_filters
from tests.fixtures.app import Api

SAMPLES = 60


def _sample() -> list[tuple[Filter, ReadScope]]:
    drawn: list[tuple[Filter, ReadScope]] = []

    @settings(
        max_examples=SAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(f=event_filters, which=st.integers(0, len(SCOPES) - 1))
    def draw(f: Filter, which: int) -> None:
        drawn.append((f, SCOPES[which]))

    draw()
    return drawn


def _indexed_filters() -> list[tuple[Filter, ReadScope]]:
    """The shapes the fan-out indexes by channel and type (``channelId`` / ``type`` eq / in,
    alone or in an AND, both together), and near misses it must not index (OR, NOT)."""
    pub1, priv1, pub2 = (Compare("channel_id", "eq", c) for c in ("pub1", "priv1", "pub2"))
    both = Compare("channel_id", "in", ("pub1", "pub2"))
    typed = Compare("type", "neq", "zzz")
    later = tuple(STRINGS[3:])
    shapes: list[Filter] = [
        pub1,
        priv1,
        both,
        And((typed, pub2)),
        And((both, pub1)),
        And((pub1, pub2)),
        Or((pub1, pub2)),
        Not(pub1),
        And((Not(both), typed)),
        Compare("type", "eq", "apple"),
        Compare("type", "in", ("apple", "Apple", "app")),
        And((Compare("type", "in", tuple(STRINGS[::2])), both)),
        And((pub1, Compare("type", "in", tuple(STRINGS[:12])), Compare("type", "neq", "app"))),
        And((pub1, Compare("type", "in", tuple(STRINGS)), Compare("type", "in", later))),
        And((Compare("type", "eq", "apple"), Compare("type", "eq", "app"))),
        Or((Compare("type", "eq", "apple"), pub2)),
        Not(Compare("type", "eq", "apple")),
        And((Compare("type", "neq", "apple"), pub1)),
    ]
    return [(f, scope) for f in shapes for scope in (SCOPES[0], SCOPES[1], SCOPES[2])]


def _principal(scope: ReadScope) -> Principal:
    if scope.admin:
        return ADMIN
    if not scope.channel_ids and not scope.workspace_ids:
        return ANONYMOUS
    return Principal(
        kind="subscribe", channel_ids=scope.channel_ids, workspace_ids=scope.workspace_ids
    )


async def test_generated_filters_deliver_exactly_the_query_engines_answer(api: Api) -> None:
    state: AppState = api.app.state.eventgraph
    samples = _indexed_filters() + _sample()
    async with AsyncExitStack() as stack:
        streams: list[tuple[Filter, ReadScope, AsyncIterator[StreamEvent]]] = []
        for f, scope in samples:
            try:
                stream = await stack.enter_async_context(
                    open_stream(
                        state.hub, principal=_principal(scope), filter=f, after=None, snapshot=None
                    )
                )
            except BadInput:  # over the filter limits: refused, as by queries
                continue
            streams.append((f, scope, stream))
        assert len(streams) >= len(samples) // 2
        events = await _setup(state.db, 4)
        seq = {row["id"]: row["seq"] for row in events}
        await state.hub.published([], private=False)  # wake the tail (rows stored without publish)
        nonempty = 0
        for f, scope, stream in streams:
            expected = sorted(await _sql(state.db, f, scope), key=seq.__getitem__)
            nonempty += bool(expected)
            got: list[StreamEvent] = []
            for _ in expected:
                got.append(await asyncio.wait_for(anext(stream), 10))
            assert [item.row["id"] for item in got] == expected, (f, scope)
            try:
                extra = await asyncio.wait_for(anext(stream), 0.05)
            except TimeoutError:
                continue
            raise AssertionError(("delivered beyond the query's answer", f, scope, extra))
        assert nonempty >= len(streams) // 4  # the sample is not all trivially empty
