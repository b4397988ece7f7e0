"""``EventInput``: one event as a client publishes it."""

from __future__ import annotations

import strawberry

from app.events.publish import EventDraft
from graphql_schema.inputs.arguments import given
from graphql_schema.scalars import JSON


@strawberry.input(description="An event to publish; the server assigns id and createdAt.")
class EventInput:
    type: str | None = strawberry.field(
        default=strawberry.UNSET, description="Its type (at most 200 characters)."
    )
    data: JSON = strawberry.field(
        description=(
            "The payload: any JSON except null, at most MAX_EVENT_BYTES compact and nested"
            " at most 32 levels."
        )
    )
    meta: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="Free-form metadata (at most 16 KB, nested at most 32 levels), not validated.",
    )
    subject_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An event the publisher can read."
    )

    def to_draft(self) -> EventDraft:
        return EventDraft(
            type=given(self.type),
            data=self.data,
            meta=given(self.meta),
            subject_id=given(self.subject_id),
            user_id=given(self.user_id),
            parent_id=given(self.parent_id),
        )
