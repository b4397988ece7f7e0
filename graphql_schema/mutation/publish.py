"""``publishEvents``, ``publishEvent`` and ``deleteEvent``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.events.delete import delete_event
from app.events.publish import publish_events
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.arguments import given
from graphql_schema.inputs.publish import EventInput
from graphql_schema.permissions import IsAuthenticated
from graphql_schema.types.event import Event

IDEMPOTENCY_KEY = (
    "Makes a retry safe: a repeat with the same key by the same publisher within 24 h"
    " stores nothing and returns the events stored the first time (same ids); the same key"
    " with a different request is a CONFLICT error. 1 to 255 characters."
)
KeyArgument = Annotated[str | None, strawberry.argument(description=IDEMPOTENCY_KEY)]


@strawberry.type
class PublishMutation:
    @fields.mutation(
        description="Publish a batch atomically (all or none), in order. Needs a publish"
        " token scoped to the channel or its workspace.",
        permission_classes=[IsAuthenticated],
    )
    async def publish_events(
        self,
        info: Info,
        channel_id: strawberry.ID,
        events: list[EventInput],
        idempotency_key: KeyArgument = None,
    ) -> list[Event]:
        context = info.context
        rows = await publish_events(
            db=context.db,
            settings=context.settings,
            principal=context.principal,
            delivery=context.delivery,
            channel_id=channel_id,
            drafts=[item.to_draft() for item in events],
            path_prefix="events",
            idempotency_key=given(idempotency_key),
        )
        return [Event.from_row(row) for row in rows]

    @fields.mutation(description="Publish one event.", permission_classes=[IsAuthenticated])
    async def publish_event(
        self,
        info: Info,
        channel_id: strawberry.ID,
        event: EventInput,
        idempotency_key: KeyArgument = None,
    ) -> Event:
        context = info.context
        rows = await publish_events(
            db=context.db,
            settings=context.settings,
            principal=context.principal,
            delivery=context.delivery,
            channel_id=channel_id,
            drafts=[event.to_draft()],
            path_prefix="event",
            single=True,
            idempotency_key=given(idempotency_key),
        )
        return Event.from_row(rows[0])

    @fields.mutation(
        description="Delete an event (admin, or its publisher); returns its id. Children"
        " keep their parentId.",
        permission_classes=[IsAuthenticated],
    )
    async def delete_event(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        context = info.context
        deleted = await delete_event(db=context.db, principal=context.principal, event_id=id)
        return strawberry.ID(deleted)
