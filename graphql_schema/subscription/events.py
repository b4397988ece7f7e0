"""``subscription events(filter, after, snapshot)``: the app-level stream as GraphQL."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, cast

import strawberry

from app.realtime.streams import MAX_SNAPSHOT, open_stream
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs import arguments as args
from graphql_schema.inputs.arguments import given
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.types.event import Event

AFTER = (
    "Resume: first every matching event published after this event id (which need not"
    " match the filter), then live. An unknown id is BAD_USER_INPUT; not with `snapshot`."
)
SNAPSHOT = f"First the last N (0..{MAX_SNAPSHOT}) matching events, oldest first, then live."


@strawberry.type
class EventsSubscription:
    @fields.subscription(
        description="Each newly published (or replayed) readable event matching `filter`,"
        " in commit order. A subscriber that falls behind is ended with SLOW_CONSUMER and"
        " `extensions.resumeAfter`, the id to pass as `after`; a revoked or expired token"
        " ends it with UNAUTHENTICATED."
    )
    async def events(
        self,
        info: Info,
        filter: Annotated[EventFilter | None, strawberry.argument(description=args.FILTER)] = (
            strawberry.UNSET
        ),
        after: Annotated[strawberry.ID | None, strawberry.argument(description=AFTER)] = (
            strawberry.UNSET
        ),
        snapshot: Annotated[int | None, strawberry.argument(description=SNAPSHOT)] = (
            strawberry.UNSET
        ),
    ) -> AsyncGenerator[Event, None]:
        # Not at the top: the renderer's field tables are read off the built schema,
        # which imports this module.
        from graphql_schema.subscription.direct import FRAMES
        from graphql_schema.subscription.render import CACHE, compile_selection

        context = info.context
        plan = compile_selection(info._raw_info.field_nodes)
        frames = FRAMES.get()
        event_filter = given(filter)
        async with open_stream(
            context.hub,
            principal=context.principal,
            filter=event_filter.to_query("filter") if event_filter else None,
            after=given(after),
            snapshot=given(snapshot),
        ) as stream:
            if plan is not None and frames is not None:
                await frames.write(stream, plan)  # until the client is gone or an error
                return
            async for item in stream:
                if plan is not None:
                    # Executed by frames.RenderedEventExecutor, which returns it as is.
                    yield cast(Event, CACHE.get(plan, item.row, item.replayed))
                    continue
                context.reset_loaders()  # relation fields read the store as it is now
                yield Event.from_row(item.row, replayed=item.replayed)
