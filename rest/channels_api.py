"""Seed 003: ``/api/v1/channels/{channelId}/events`` — publish, poll, fetch, delete."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query
from starlette.responses import Response

from app.auth.principal import Principal
from app.errors import BadInput, NotFound, PayloadTooLarge, Unauthenticated
from app.events.delete import delete_event
from app.events.feed import check_channel_access, get_channel_event, poll_channel
from app.events.publish import EventDraft, publish_events
from app.state import AppState
from rest.deps import PrincipalDep, StateDep
from rest.json_body import StrictJsonRoute
from rest.models import ERROR_RESPONSES, ChannelEventOut, ChannelEventsOut, ErrorOut
from rest.params import PageSize, parse_datetime
from rest.shapes import JsonResponse, event_snake

router = APIRouter(
    prefix="/api/v1/channels",
    tags=["channel events (/api/v1/channels)"],
    route_class=StrictJsonRoute,
)

_DRAFT_FIELDS = {"type", "data", "meta", "subject_id", "user_id", "parent_id"}

PUBLISH_EXAMPLES = {
    "single": {
        "value": {
            "type": "price.update",
            "data": {"symbol": "BTC", "price": 67500.0, "timestamp": "2025-01-15T09:30:00Z"},
            "meta": '{"component": "price-ticker@0.1"}',
        }
    },
    "batch": {
        "summary": "several events, atomically",
        "value": {
            "events": [
                {"type": "price.update", "data": {"symbol": "BTC", "price": 67500.0}},
                {"type": "price.update", "data": {"symbol": "ETH", "price": 3200.0}},
            ]
        },
    },
}


def _unknown_field(name: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if snake != name and snake in _DRAFT_FIELDS:
        return f"unknown field {name!r}: the channel API is snake_case, use {snake!r}"
    return f"unknown field {name!r}; accepted: {', '.join(sorted(_DRAFT_FIELDS))}"


def _draft(raw: Any, *, path: str) -> EventDraft:
    if not isinstance(raw, Mapping):
        raise BadInput("an event must be a JSON object", path=path or None)
    prefix = f"{path}." if path else ""
    unknown = sorted(set(raw) - _DRAFT_FIELDS)
    if unknown:
        raise BadInput(_unknown_field(unknown[0]), path=f"{prefix}{unknown[0]}")
    if raw.get("data") is None:
        raise BadInput("data is required and must not be null", path=f"{prefix}data")
    for name in ("type", "subject_id", "user_id", "parent_id"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise BadInput(f"{name} must be a string", path=f"{prefix}{name}")
    return EventDraft(
        type=raw.get("type"),
        data=raw["data"],
        meta=raw.get("meta"),
        subject_id=raw.get("subject_id"),
        user_id=raw.get("user_id"),
        parent_id=raw.get("parent_id"),
    )


def drafts_of(body: Any, state: AppState) -> tuple[list[EventDraft], bool]:
    """The drafts of a publish body and whether it was a batch (``{"events": [...]}``)."""
    if isinstance(body, Mapping) and "events" in body:
        events = body["events"]
        if not isinstance(events, list):
            raise BadInput("events must be a list", path="events")
        if len(events) > state.settings.max_batch:
            raise PayloadTooLarge(
                f"{len(events)} events in one batch; the limit is {state.settings.max_batch}",
                path="events",
            )
        if len(body) > 1:
            other = sorted(set(body) - {"events"})[0]
            raise BadInput(f"unknown field {other!r} beside events", path=other)
        return [_draft(raw, path=f"events[{i}]") for i, raw in enumerate(events)], True
    return [_draft(body, path="")], False


@router.post(
    "/{channelId}/events",
    summary="Publish one event or a batch",
    status_code=201,
    response_model=None,
    responses={
        201: {"model": ChannelEventOut, "description": "The event (or `{events: [...]}`)"},
        413: {"model": ErrorOut, "description": "data over MAX_EVENT_BYTES or batch too big"},
        **ERROR_RESPONSES,
    },
)
async def publish(
    state: StateDep,
    principal: PrincipalDep,
    channel_id: Annotated[str, Path(alias="channelId", description="Target channel id")],
    body: Annotated[Any, Body(openapi_examples=PUBLISH_EXAMPLES)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes a retry safe: a repeat with the same key by the same publisher"
            " within 24 h stores nothing and answers the events stored the first time (same"
            " ids, same status); the same key with a different body is a 409. 1 to 255"
            " characters.",
        ),
    ] = None,
) -> JsonResponse:
    """Publish `{type?, data, meta?}` or `{"events": [...]}` (all or none) with a publish
    token scoped to the channel (or its workspace), or an admin token. Triggers
    subscriptions and webhooks. Send an `Idempotency-Key` to retry safely."""
    if not principal.is_authenticated:
        raise Unauthenticated("publishing requires a publish or admin token")
    drafts, batch = drafts_of(body, state)
    return await publish_drafts(
        state, principal, channel_id, drafts, batch=batch, idempotency_key=idempotency_key
    )


async def publish_drafts(
    state: AppState,
    principal: Principal,
    channel_id: str,
    drafts: list[EventDraft],
    *,
    batch: bool,
    idempotency_key: str | None = None,
) -> JsonResponse:
    """Publish what ``drafts_of`` made of a body and answer it (201): the route's and the
    REST publish shortcut's one way to do so."""
    rows = await publish_events(
        db=state.db,
        settings=state.settings,
        principal=principal,
        channel_id=channel_id,
        drafts=drafts,
        path_prefix="events" if batch else "",
        single=not batch,
        delivery=state.delivery,
        idempotency_key=idempotency_key,
        key_path="Idempotency-Key",
    )
    if batch:
        return JsonResponse({"events": [event_snake(row) for row in rows]}, status_code=201)
    return JsonResponse(event_snake(rows[0]), status_code=201)


@router.get(
    "/{channelId}/events",
    summary="Poll a channel's events in publish order",
    response_model=None,
    responses={200: {"model": ChannelEventsOut}, **ERROR_RESPONSES},
)
async def poll(
    state: StateDep,
    principal: PrincipalDep,
    channel_id: Annotated[str, Path(alias="channelId", description="Channel id")],
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601: only events created strictly after (ignored with `cursor`)",
            examples=["2025-01-15T09:30:00Z"],
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="The `cursor` of a previous response: events after it")
    ] = None,
    type: Annotated[str | None, Query(description="Only events of this type")] = None,
    limit: Annotated[PageSize, Query(description="Page size (1-100)")] = 100,
) -> JsonResponse:
    """Oldest first, in publish (commit) order. Keep polling with the returned `cursor`:
    no event is missed or repeated, even with concurrent publishers; an empty page returns
    the cursor it was given. Public channels need no token and are CDN-cacheable
    (`Cache-Control: public, s-maxage=<POLL_INTERVAL>`); private channels need a token
    that can read them."""
    page = await poll_channel(
        db=state.db,
        principal=principal,
        channel_id=channel_id,
        cursor=cursor,
        since=parse_datetime(since, path="since"),
        type_=type,
        limit=limit,
    )
    body = {
        "events": [event_snake(row) for row in page.events],
        "cursor": page.cursor,
        "has_more": page.has_more,
    }
    return JsonResponse(body, headers=_cache_headers(state, private=page.channel.private))


def _cache_headers(state: AppState, *, private: bool) -> dict[str, str]:
    if private:
        return {"Cache-Control": "private, no-store"}
    return {"Cache-Control": f"public, s-maxage={state.settings.poll_interval}"}


@router.get(
    "/{channelId}/events/{eventId}",
    summary="Get one event of a channel",
    response_model=None,
    responses={200: {"model": ChannelEventOut}, **ERROR_RESPONSES},
)
async def get_one(
    state: StateDep,
    principal: PrincipalDep,
    channel_id: Annotated[str, Path(alias="channelId", description="Channel id")],
    event_id: Annotated[str, Path(alias="eventId", description="Event ULID")],
) -> JsonResponse:
    """The event; 404 when it does not exist or belongs to another channel."""
    row, access = await get_channel_event(
        db=state.db, principal=principal, channel_id=channel_id, event_id=event_id
    )
    return JsonResponse(event_snake(row), headers=_cache_headers(state, private=access.private))


@router.delete(
    "/{channelId}/events/{eventId}",
    summary="Delete one event",
    status_code=204,
    response_class=Response,
    responses=ERROR_RESPONSES,
)
async def delete_one(
    state: StateDep,
    principal: PrincipalDep,
    channel_id: Annotated[str, Path(alias="channelId", description="Channel id")],
    event_id: Annotated[str, Path(alias="eventId", description="Event ULID")],
) -> Response:
    """Admin, or a publish token scoped to the channel whose publisher published the event.
    401 without a token, 403 wrong publisher or scope, 404 missing or in another channel."""
    if not principal.is_authenticated:
        raise Unauthenticated("deleting requires a publish or admin token")
    await check_channel_access(db=state.db, principal=principal, channel_id=channel_id)
    try:
        await delete_event(
            db=state.db, principal=principal, event_id=event_id, channel_id=channel_id
        )
    except NotFound as exc:
        exc.path = "eventId"  # the URL's name for it, as GET says
        raise
    return Response(status_code=204)
