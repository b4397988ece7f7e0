"""Inputs of the webhook mutations."""

from __future__ import annotations

import strawberry

from graphql_schema.scalars import JSON

FILTER = (
    "An EventFilter as a JSON object (exactly what `events(filter:)` takes), evaluated"
    " with the read scope of the token that created the webhook."
)


@strawberry.input(description="A new webhook; its secret is returned once.")
class CreateWebhookInput:
    url: str = strawberry.field(description="http(s) URL the events are POSTed to.")
    channel_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only events of this channel."
    )
    filter: JSON | None = strawberry.field(default=None, description=FILTER)
    description: str | None = None


@strawberry.input(description="Changes to a webhook; absent fields stay as they are.")
class UpdateWebhookInput:
    url: str | None = strawberry.UNSET
    channel_id: strawberry.ID | None = strawberry.UNSET
    filter: JSON | None = strawberry.field(default=strawberry.UNSET, description=FILTER)
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="`false` pauses: queued and new deliveries are skipped (retry them later).",
    )


__all__ = ["CreateWebhookInput", "UpdateWebhookInput"]
