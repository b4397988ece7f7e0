"""``/v1/admin/webhooks``: webhook management and delivery logs (admin token)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.records import camel_record
from app.webhooks import deliveries, service
from app.webhooks.deliveries import DeliveryLog
from graphql_schema.inputs.coerce import coerce_filter
from rest.deps import AdminDep, StateDep
from rest.json_body import StrictJsonRoute
from rest.models import ERROR_RESPONSES
from rest.params import PageSize
from rest.shapes import JsonResponse

router = APIRouter(
    prefix="/v1/admin/webhooks",
    tags=["admin webhooks (/v1/admin)"],
    responses=ERROR_RESPONSES,
    route_class=StrictJsonRoute,
)

WEBHOOK_FIELDS = (
    "id",
    "url",
    "channel_id",
    "filter",
    "description",
    "enabled",
    "disabled_reason",
    "created_at",
    "updated_at",
)
DELIVERY_FIELDS = ("id", "event_id", "status", "next_attempt_at", "created_at", "finished_at")
ATTEMPT_FIELDS = (
    "number",
    "attempted_at",
    "status_code",
    "latency_ms",
    "response",
    "error",
)
Status = Literal["pending", "succeeded", "failed", "skipped"]
WebhookId = Annotated[str, Path(alias="webhookId")]
FILTER = "An EventFilter object (the GraphQL `EventFilter` input as JSON)"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WebhookIn(_Input):
    url: str = Field(examples=["https://example.com/hooks/eventgraph"])
    channel_id: str | None = Field(None, alias="channelId", examples=["market-signals"])
    filter: dict[str, Any] | None = Field(
        None, description=FILTER, examples=[{"type": {"eq": "price.update"}}]
    )
    description: str | None = None


class WebhookPatch(_Input):
    url: str | None = None
    channel_id: str | None = Field(None, alias="channelId")
    filter: dict[str, Any] | None = Field(None, description=FILTER)
    description: str | None = None
    enabled: bool | None = Field(None, description="`false` pauses the webhook")


class RotateIn(_Input):
    overlap_seconds: int | None = Field(
        None, alias="overlapSeconds", description="How long the old secret still signs"
    )


class RetryIn(_Input):
    statuses: list[Literal["failed", "skipped"]] = Field(
        default=["failed", "skipped"], description="Which deliveries to queue again"
    )


def _filter(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is not None:
        coerce_filter(raw, path="filter")
    return raw


def _webhook(row: Any) -> dict[str, Any]:
    shaped = camel_record(row, WEBHOOK_FIELDS)
    shaped["filter"] = row["filter"]  # as given, keys untouched
    return shaped


def _delivery(log: DeliveryLog) -> dict[str, Any]:
    return {
        **camel_record(log.row, DELIVERY_FIELDS),
        "type": log.row["kind"],
        "attemptCount": log.row["attempts"],
        "attempts": [camel_record(a, ATTEMPT_FIELDS) for a in log.attempts],
    }


@router.post("", summary="Create a webhook (the secret is shown once)", status_code=201)
async def create_webhook(state: StateDep, principal: AdminDep, body: WebhookIn) -> JsonResponse:
    """`{url, channelId?, filter?, description?}` → `{"webhook": {...}, "secret": "whsec_..."}`."""
    row, secret = await service.create_webhook(
        db=state.db,
        settings=state.settings,
        principal=principal,
        url=body.url,
        channel_id=body.channel_id,
        filter_json=_filter(body.filter),
        description=body.description,
    )
    return JsonResponse({"webhook": _webhook(row), "secret": secret}, status_code=201)


@router.get("", summary="List webhooks (oldest first)")
async def list_webhooks(state: StateDep, principal: AdminDep) -> JsonResponse:
    rows = await service.list_webhooks(db=state.db, principal=principal)
    return JsonResponse({"webhooks": [_webhook(r) for r in rows]})


@router.get("/{webhookId}", summary="Get a webhook")
async def get_webhook(state: StateDep, principal: AdminDep, webhook_id: WebhookId) -> JsonResponse:
    row = await service.get_webhook(db=state.db, principal=principal, id=webhook_id)
    return JsonResponse(_webhook(row))


@router.patch("/{webhookId}", summary="Update a webhook (absent fields unchanged)")
async def update_webhook(
    state: StateDep,
    principal: AdminDep,
    webhook_id: WebhookId,
    body: Annotated[WebhookPatch, Body(examples=[{"enabled": False}])],
) -> JsonResponse:
    """Only the fields present in the body change; `null` clears `channelId`, `filter` and
    `description`; `"enabled": false` pauses."""
    given = body.model_fields_set

    def value(name: str) -> Any:
        return getattr(body, name) if name in given else service.UNCHANGED

    row = await service.update_webhook(
        db=state.db,
        settings=state.settings,
        principal=principal,
        id=webhook_id,
        url=value("url") if body.url is not None else service.UNCHANGED,
        channel_id=value("channel_id"),
        filter_json=_filter(body.filter) if "filter" in given else service.UNCHANGED,
        description=value("description"),
        enabled=value("enabled") if body.enabled is not None else service.UNCHANGED,
    )
    return JsonResponse(_webhook(row))


@router.delete("/{webhookId}", summary="Delete a webhook", status_code=204, response_class=Response)
async def delete_webhook(state: StateDep, principal: AdminDep, webhook_id: WebhookId) -> Response:
    """Deletes the webhook, its queued deliveries and its delivery log."""
    await service.delete_webhook(db=state.db, principal=principal, id=webhook_id)
    return Response(status_code=204)


@router.post("/{webhookId}/rotate-secret", summary="Rotate the signing secret")
async def rotate_secret(
    state: StateDep, principal: AdminDep, webhook_id: WebhookId, body: RotateIn
) -> JsonResponse:
    """A new secret (shown once); the old one also signs for `overlapSeconds` (default a day)."""
    row, secret = await service.rotate_secret(
        db=state.db, principal=principal, id=webhook_id, overlap_seconds=body.overlap_seconds
    )
    return JsonResponse({"webhook": _webhook(row), "secret": secret})


@router.get("/{webhookId}/deliveries", summary="Deliveries with their attempts (newest first)")
async def list_deliveries(
    state: StateDep,
    principal: AdminDep,
    webhook_id: WebhookId,
    status: Annotated[list[Status] | None, Query(description="Only these statuses")] = None,
    limit: Annotated[PageSize, Query(description="Deliveries per page, newest first")] = 50,
) -> JsonResponse:
    logs = await deliveries.list_deliveries(
        db=state.db, principal=principal, webhook_id=webhook_id, statuses=status, limit=limit
    )
    return JsonResponse({"deliveries": [_delivery(log) for log in logs]})


@router.post("/{webhookId}/deliveries/retry", summary="Retry failed/skipped deliveries in bulk")
async def retry_all(
    state: StateDep, principal: AdminDep, webhook_id: WebhookId, body: RetryIn
) -> JsonResponse:
    """`{"statuses": ["failed", "skipped"]}` (the default) → `{"retried": n}`."""
    count = await deliveries.retry_deliveries(
        db=state.db, principal=principal, webhook_id=webhook_id, statuses=body.statuses
    )
    return JsonResponse({"retried": count})


@router.post("/{webhookId}/deliveries/{deliveryId}/retry", summary="Retry one delivery")
async def retry_one(
    state: StateDep,
    principal: AdminDep,
    webhook_id: WebhookId,
    delivery_id: Annotated[str, Path(alias="deliveryId")],
) -> JsonResponse:
    """A failed or skipped delivery is queued again with the same `webhook-id`."""
    count = await deliveries.retry_deliveries(
        db=state.db, principal=principal, webhook_id=webhook_id, delivery_id=delivery_id
    )
    return JsonResponse({"retried": count})
