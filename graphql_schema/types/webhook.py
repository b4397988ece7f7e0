"""Webhooks, their deliveries and attempts; the secret appears once, in ``CreatedWebhook``."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry

from app.webhooks.deliveries import DeliveryLog, list_deliveries
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.scalars import JSON, DateTime


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(Enum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"


@strawberry.type(description="One POST of a delivery to the webhook's URL.")
class WebhookAttempt:
    number: int = strawberry.field(description="1 for the first attempt of the delivery.")
    attempted_at: DateTime
    status_code: int | None = strawberry.field(
        description="The HTTP status; null when no response came (see `error`)."
    )
    latency_ms: int
    response: str | None = strawberry.field(
        description="The start of the response body (at most 1024 characters)."
    )
    error: str | None = strawberry.field(description="Timeout, connection or address error.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> WebhookAttempt:
        return cls(
            number=row["number"],
            attempted_at=row["attempted_at"],
            status_code=row["status_code"],
            latency_ms=row["latency_ms"],
            response=row["response"],
            error=row["error"],
        )


@strawberry.type(description="One event queued for one webhook.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(
        description="The `webhook-id` header: the same on every attempt (deduplicate on it)."
    )
    event_id: strawberry.ID
    type: str = strawberry.field(description="`event.published` or `event.replayed`.")
    status: WebhookDeliveryStatus
    attempt_count: int = strawberry.field(
        description="Attempts since it was queued (or last retried by hand)."
    )
    next_attempt_at: DateTime | None = strawberry.field(description="When pending.")
    created_at: DateTime
    finished_at: DateTime | None
    attempts: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @classmethod
    def from_log(cls, log: DeliveryLog) -> WebhookDelivery:
        row = log.row
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            type=row["kind"],
            status=WebhookDeliveryStatus(row["status"]),
            attempt_count=row["attempts"],
            next_attempt_at=row["next_attempt_at"] if row["status"] == "pending" else None,
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            attempts=[WebhookAttempt.from_row(a) for a in log.attempts],
        )


@strawberry.type(description="An endpoint that receives matching events, signed.")
class Webhook:
    id: strawberry.ID
    url: str
    channel_id: strawberry.ID | None = strawberry.field(description="Only this channel's events.")
    filter: JSON | None = strawberry.field(description="The EventFilter, as given.")
    description: str | None
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="`paused`, or why delivery stopped (e.g. the receiver answered 410)."
    )
    previous_secret_expires_at: DateTime | None = strawberry.field(
        description="Until then the previous secret signs too (after a rotation)."
    )
    created_at: DateTime
    updated_at: DateTime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Webhook:
        return cls(
            id=row["id"],
            url=row["url"],
            channel_id=row["channel_id"],
            filter=row["filter"],
            description=row["description"],
            enabled=row["enabled"],
            disabled_reason=row["disabled_reason"],
            previous_secret_expires_at=row["previous_secret_until"]
            if row["previous_secret"]
            else None,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @fields.field(description="Its deliveries, newest first, each with its attempts.")
    async def deliveries(
        self,
        info: Info,
        statuses: list[WebhookDeliveryStatus] | None = None,
        first: int = 50,
    ) -> list[WebhookDelivery]:
        context = info.context
        logs = await list_deliveries(
            db=context.db,
            principal=context.principal,
            webhook_id=self.id,
            statuses=[s.value for s in statuses] if statuses else None,
            limit=first,
        )
        return [WebhookDelivery.from_log(log) for log in logs]


@strawberry.type(description="A webhook and its signing secret, which is returned here only.")
class CreatedWebhook:
    webhook: Webhook
    secret: str = strawberry.field(description="`whsec_...`: verify signatures with it.")


__all__ = ["CreatedWebhook", "Webhook", "WebhookAttempt", "WebhookDelivery"]
