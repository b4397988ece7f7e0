"""Webhook mutations: create, update (pause), rotate the secret, delete, retry deliveries."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import UNSET

from app.errors import BadInput
from app.webhooks import deliveries, service
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.webhook import CreateWebhookInput, UpdateWebhookInput
from graphql_schema.permissions import IsAuthenticated
from graphql_schema.types.webhook import CreatedWebhook, Webhook, WebhookDeliveryStatus

OWNER = " (the token that created it, or an admin)."


def checked_filter(raw: Any) -> Any:
    """``raw`` once it parses as an EventFilter (``BadInput`` at ``input.filter`` if not)."""
    # coerce builds on the schema, which imports this module: look it up at call time.
    from graphql_schema.inputs.coerce import coerce_filter

    if raw is not None:
        coerce_filter(raw, path="input.filter")
    return raw


def _changed(value: Any) -> Any:
    return service.UNCHANGED if value is UNSET else value


@strawberry.type
class WebhooksMutation:
    @fields.mutation(
        description="Create a webhook; it sees what the calling token can read. The secret"
        " is returned here only.",
        permission_classes=[IsAuthenticated],
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreatedWebhook:
        context = info.context
        row, secret = await service.create_webhook(
            db=context.db,
            settings=context.settings,
            principal=context.principal,
            url=input.url,
            channel_id=input.channel_id,
            filter_json=checked_filter(input.filter),
            description=input.description,
        )
        return CreatedWebhook(webhook=Webhook.from_row(row), secret=secret)

    @fields.mutation(
        description="Change a webhook; absent fields stay as they are" + OWNER,
        permission_classes=[IsAuthenticated],
    )
    async def update_webhook(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookInput
    ) -> Webhook:
        context = info.context
        if input.url is None:
            raise BadInput("url cannot be null", path="input.url")
        if input.enabled is None:
            raise BadInput("enabled cannot be null", path="input.enabled")
        row = await service.update_webhook(
            db=context.db,
            settings=context.settings,
            principal=context.principal,
            id=id,
            url=_changed(input.url),
            channel_id=_changed(input.channel_id),
            filter_json=service.UNCHANGED
            if input.filter is UNSET
            else checked_filter(input.filter),
            description=_changed(input.description),
            enabled=_changed(input.enabled),
        )
        return Webhook.from_row(row)

    @fields.mutation(
        description="A new secret; the old one keeps signing for `overlapSeconds` (default"
        " 86400, at most 7 days; 0 ends it now)" + OWNER,
        permission_classes=[IsAuthenticated],
    )
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, overlap_seconds: int | None = None
    ) -> CreatedWebhook:
        context = info.context
        row, secret = await service.rotate_secret(
            db=context.db, principal=context.principal, id=id, overlap_seconds=overlap_seconds
        )
        return CreatedWebhook(webhook=Webhook.from_row(row), secret=secret)

    @fields.mutation(
        description="Delete a webhook and its delivery log; returns its id" + OWNER,
        permission_classes=[IsAuthenticated],
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        context = info.context
        return strawberry.ID(
            await service.delete_webhook(db=context.db, principal=context.principal, id=id)
        )

    @fields.mutation(
        description="Queue failed or skipped deliveries again: one (`deliveryId`) or every"
        " one with the given statuses (default both); returns how many" + OWNER,
        permission_classes=[IsAuthenticated],
    )
    async def retry_webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID,
        delivery_id: strawberry.ID | None = None,
        statuses: list[WebhookDeliveryStatus] | None = None,
    ) -> int:
        context = info.context
        return await deliveries.retry_deliveries(
            db=context.db,
            principal=context.principal,
            webhook_id=webhook_id,
            delivery_id=delivery_id,
            statuses=[s.value for s in statuses] if statuses else deliveries.RETRYABLE,
        )
