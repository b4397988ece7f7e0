"""``replayEvents``: re-deliver stored events to subscribers and webhooks."""

from __future__ import annotations

import strawberry

from app.events.replay import replay_events
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.arguments import given
from graphql_schema.inputs.event_filter import EventFilter
from graphql_schema.permissions import IsAdmin
from graphql_schema.types.replay import ReplayError, ReplayResult


@strawberry.type
class ReplayMutation:
    @fields.mutation(
        description="Re-deliver events (by `ids`, by `filter`, or the listed ids that match"
        " the filter), marked as replays; `limit` caps the whole request. Admin token only,"
        " like `POST /v1/admin/events/replay`.",
        permission_classes=[IsAdmin],
    )
    async def replay_events(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = strawberry.UNSET,
        filter: EventFilter | None = strawberry.UNSET,
        limit: int | None = strawberry.UNSET,
    ) -> ReplayResult:

        context = info.context
        event_filter = given(filter)
        id_list = given(ids)
        result = await replay_events(
            db=context.db,
            principal=context.principal,
            ids=list(id_list) if id_list is not None else None,
            filter=event_filter.to_query("filter") if event_filter else None,
            limit=given(limit),
            delivery=context.delivery,
        )
        return ReplayResult(
            replayed=result.replayed,
            errors=[
                ReplayError(event_id=strawberry.ID(error.event_id), error=error.error)
                for error in result.errors
            ],
        )
