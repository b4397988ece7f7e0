"""Seed 001: ``/v1/admin/events`` — browse, inspect and replay events (admin token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query

from app.errors import BadInput, NotFound
from app.events import read as read_service
from app.events.read import EventQuery, PageRequest
from app.events.replay import admin_filter, replay_events
from rest.deps import AdminDep, StateDep
from rest.json_body import StrictJsonRoute
from rest.models import ERROR_RESPONSES, AdminEventListOut, AdminEventOneOut, ReplayIn, ReplayOut
from rest.params import Offset, PageSize, parse_datetime
from rest.shapes import JsonResponse, event_admin

router = APIRouter(
    prefix="/v1/admin/events", tags=["admin events (/v1/admin)"], route_class=StrictJsonRoute
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: ERROR_RESPONSES[code] for code in (400, 401, 403)
}


@router.get(
    "",
    summary="List events (newest first)",
    response_model=None,
    responses={200: {"model": AdminEventListOut}, **_RESPONSES},
)
async def list_admin_events(
    state: StateDep,
    principal: AdminDep,
    limit: Annotated[PageSize, Query(description="Results per page (1-100)")] = 50,
    offset: Annotated[Offset, Query(description="Pagination offset")] = 0,
    user_id: Annotated[
        str | None, Query(alias="userId", description="Filter by user id", examples=["user_abc"])
    ] = None,
    event: Annotated[
        str | None, Query(description="Filter by event name (type)", examples=["user:signed_up"])
    ] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="ISO 8601 lower bound on occurredAt (inclusive)",
            examples=["2025-01-01T00:00:00Z"],
        ),
    ] = None,
    to: Annotated[
        str | None, Query(description="ISO 8601 upper bound on occurredAt (inclusive)")
    ] = None,
) -> JsonResponse:
    """Events ordered by occurredAt descending (id descending on ties), with the total."""
    query = EventQuery(
        filter=admin_filter(
            event=event,
            user_id=user_id,
            from_=parse_datetime(from_, path="from"),
            to=parse_datetime(to, path="to"),
        )
    )
    size = min(limit, state.settings.max_page_size)
    scope = principal.read_scope
    page = await read_service.list_events(
        db=state.db,
        scope=scope,
        query=query,
        page=PageRequest(first=size),
        max_page_size=state.settings.max_page_size,
        offset=offset,
        with_total=True,
    )
    return JsonResponse(
        {
            "events": [event_admin(row) for row in page.rows],
            "total": page.total,
            "limit": limit,
            "offset": offset,
        }
    )


@router.post(
    "/replay",
    summary="Replay events through delivery",
    response_model=None,
    responses={200: {"model": ReplayOut}, **_RESPONSES},
)
async def replay(
    state: StateDep,
    principal: AdminDep,
    body: Annotated[
        ReplayIn,
        Body(
            openapi_examples={
                "by ids": {"value": {"eventIds": ["01HZQX5K9V6BMRJ3WYAT0GN1PH"], "limit": 100}},
                "by filter": {
                    "value": {
                        "filter": {
                            "event": "user:signed_up",
                            "userId": "user_abc123",
                            "from": "2025-01-01T00:00:00Z",
                            "to": "2025-01-15T00:00:00Z",
                        },
                        "limit": 500,
                    }
                },
            }
        ),
    ],
) -> JsonResponse:
    """Re-deliver events to subscribers and webhooks (marked as replays). Give `eventIds`,
    `filter`, or both (the listed ids that match the filter); `limit` caps the whole
    request. Unknown ids are reported in `errors`."""
    if body.eventIds is None and body.filter is None:
        raise BadInput("eventIds or filter is required", path="eventIds")
    query_filter = None
    if body.filter is not None:
        query_filter = admin_filter(
            event=body.filter.event,
            user_id=body.filter.userId,
            from_=parse_datetime(body.filter.from_, path="filter.from"),
            to=parse_datetime(body.filter.to, path="filter.to"),
        )
    try:
        result = await replay_events(
            db=state.db,
            principal=principal,
            ids=body.eventIds,
            filter=query_filter,
            limit=body.limit,
            delivery=state.delivery,
        )
    except BadInput as exc:
        if exc.path is not None and exc.path.startswith("ids"):
            exc.path = "eventIds" + exc.path.removeprefix("ids")
        raise
    return JsonResponse(
        {
            "replayed": result.replayed,
            "errors": [{"eventId": e.event_id, "error": e.error} for e in result.errors],
        }
    )


@router.api_route(
    "/replay", methods=["GET", "HEAD", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def replay_other_methods() -> None:
    """``/replay`` is POST only; without this route ``GET /replay`` would be read as ``/{id}``."""
    raise HTTPException(405, "replay takes POST", headers={"Allow": "POST"})


@router.get(
    "/{id}",
    summary="Get one event",
    response_model=None,
    responses={200: {"model": AdminEventOneOut}, **ERROR_RESPONSES},
)
async def get_admin_event(
    state: StateDep,
    principal: AdminDep,
    id: Annotated[str, Path(description="Event id")],
) -> JsonResponse:
    """`{"event": {...}}` with its full properties, or 404."""
    found = await read_service.get_events(db=state.db, scope=principal.read_scope, ids=[id])
    if id not in found:
        raise NotFound("Event not found", path="id")
    return JsonResponse({"event": event_admin(found[id])})
