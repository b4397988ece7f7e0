"""Seed 002 (+ seed 000's aliases): ``/api/events``, one event, and the NDJSON export."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.errors import BadInput, NotFound
from app.events import read as read_service
from app.events.archive import export_events, ndjson_line
from app.events.cost import check_cost, filter_cost
from app.events.read import EventQuery, PageRequest
from app.state import AppState
from db.query.ast import Filter
from rest.deps import AuthenticatedDep, StateDep
from rest.models import ERROR_RESPONSES, EventListOut, EventOut
from rest.params import between, combine, equals, parse_datetime, parse_filter, parse_ids
from rest.params import parse_order as parse_order_param
from rest.shapes import JsonResponse, event_camel, event_camel_raw

router = APIRouter(tags=["events (/api/events)"], responses=ERROR_RESPONSES)

FILTER_EXAMPLES = {
    "type and JSON": {
        "summary": "type is one of two values and data.price > 100",
        "value": '{"type":{"in":["price.update","price.close"]},'
        '"data":{"path":{"path":["price"],"gt":100}}}',
    },
    "boolean logic": {
        "summary": "OR of two channels, not by a given publisher",
        "value": '{"OR":[{"channelId":{"eq":"market-signals"}},{"channelId":{"eq":"news"}}],'
        '"NOT":{"publisherId":{"eq":"agent-001"}}}',
    },
    "relations": {
        "summary": "events whose parent is of type order.created",
        "value": '{"parent":{"type":{"eq":"order.created"}}}',
    },
}
ORDER_EXAMPLES = {
    "newest first": {"summary": "the default", "value": '[{"createdAt":"desc"},{"id":"desc"}]'},
    "by type, then oldest": {
        "summary": "type ascending (nulls last), then createdAt ascending",
        "value": '[{"type":"asc_nulls_last"},{"createdAt":"asc"}]',
    },
}


def event_filter(
    filter: Annotated[
        str | None,
        Query(
            description="JSON-encoded `EventFilter` (the GraphQL input: AND/OR/NOT, per-field"
            " operators, JSON paths, relations). Up to 32 KB.",
            openapi_examples=FILTER_EXAMPLES,
        ),
    ] = None,
    workspace_id: Annotated[str | None, Query(description="Shorthand: workspaceId equals")] = None,
    type: Annotated[
        str | None, Query(description="Shorthand: type equals", examples=["agent.created"])
    ] = None,
    topic: Annotated[str | None, Query(description="Alias of `type` (seed 000)")] = None,
    subject_id: Annotated[str | None, Query(description="Shorthand: subjectId equals")] = None,
    parent_id: Annotated[str | None, Query(description="Shorthand: parentId equals")] = None,
    user_id: Annotated[str | None, Query(description="Shorthand: userId equals")] = None,
    created_at_after: Annotated[
        str | None,
        Query(description="ISO 8601: createdAt at or after (inclusive)", examples=["2025-03-20"]),
    ] = None,
    created_at_before: Annotated[
        str | None, Query(description="ISO 8601: createdAt at or before (inclusive)")
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601: createdAt strictly after (seed 000)",
            examples=["2025-03-20T00:00:00Z"],
        ),
    ] = None,
) -> Filter:
    """The filter of ``/api/events`` and its export: JSON ``filter`` AND every shorthand."""
    leaves = [
        *equals("workspace_id", workspace_id),
        *equals("type", type),
        *equals("type", topic),
        *equals("subject_id", subject_id),
        *equals("parent_id", parent_id),
        *equals("user_id", user_id),
        *between(
            "created_at",
            gte=parse_datetime(created_at_after, path="created_at_after"),
            lte=parse_datetime(created_at_before, path="created_at_before"),
            gt=parse_datetime(since, path="since"),
        ),
    ]
    return combine(parse_filter(filter), leaves)


FilterDep = Annotated[Filter, Depends(event_filter)]


@router.get(
    "/api/events",
    summary="List events",
    response_model=None,
    responses={200: {"model": EventListOut}},
)
async def list_events(
    state: StateDep,
    principal: AuthenticatedDep,
    query_filter: FilterDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (1-100)")] = 100,
    after: Annotated[
        str | None, Query(description="Cursor (`pageInfo.endCursor`): the page after it")
    ] = None,
    before: Annotated[
        str | None, Query(description="Cursor (`pageInfo.startCursor`): the page before it")
    ] = None,
    ids: Annotated[
        str | None,
        Query(description="Comma-separated ids (at most 100); narrows within your scope"),
    ] = None,
    order_by: Annotated[
        str | None,
        Query(
            alias="orderBy",
            description="JSON-encoded `[EventOrderBy]`: one field per element, directions"
            " asc/desc/asc_nulls_first/asc_nulls_last/desc_nulls_first/desc_nulls_last."
            " Default newest first.",
            openapi_examples=ORDER_EXAMPLES,
        ),
    ] = None,
) -> JsonResponse:
    """Events readable by the caller, newest first unless `orderBy` says otherwise, with
    keyset cursors. Requires `Authorization: Bearer <token>` or the `session` cookie."""
    page = await events_page(
        state=state,
        principal=principal,
        query_filter=query_filter,
        limit=limit,
        after=after,
        before=before,
        ids=ids,
        order_by=order_by,
    )
    return JsonResponse(page)


async def events_page(
    *,
    state: AppState,
    principal: Principal,
    query_filter: Filter,
    limit: int,
    after: str | None,
    before: str | None,
    ids: str | None,
    order_by: str | None,
) -> dict[str, Any]:
    """The body of ``GET /api/events`` (also served by ``rest.fast_list``)."""
    settings, db = state.settings, state.db
    if after is not None and before is not None:
        raise BadInput("pass either after or before, not both", path="before")
    query = EventQuery(filter=query_filter, order=parse_order_param(order_by), ids=parse_ids(ids))
    size = min(limit, settings.max_page_size)
    check_cost(size * filter_cost(query_filter), settings.max_request_cost, path="filter")
    page = (
        PageRequest(last=size, before=before)
        if before is not None
        else PageRequest(first=size, after=after)
    )
    try:
        result = await read_service.list_events(
            db=db,
            scope=principal.read_scope,
            query=query,
            page=page,
            max_page_size=settings.max_page_size,
            raw_json=True,
            with_total=True,
        )
    except BadInput as exc:
        if exc.path in ("first", "last"):
            exc.path = "limit"
        raise
    return {
        "data": [event_camel_raw(row) for row in result.rows],
        "pageInfo": {
            "total": result.total,
            "hasNextPage": result.has_next_page,
            "hasPreviousPage": result.has_previous_page,
            "startCursor": result.start_cursor,
            "endCursor": result.end_cursor,
        },
    }


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            quality = params.strip().removeprefix("q=").strip()
            try:
                return not quality or float(quality) > 0
            except ValueError:
                return True
    return False


@router.get(
    "/api/events/export.ndjson",
    summary="Export events as NDJSON",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {"example": '{"id":"01HZ...","type":"a"}\n'}},
            "description": "One camelCase Event per line, ascending by id; gzip when asked",
        }
    },
)
async def export_ndjson(
    request: Request,
    state: StateDep,
    principal: AuthenticatedDep,
    query_filter: FilterDep,
    after: Annotated[
        str | None,
        Query(description="An event id: export only events with a greater id (incremental)"),
    ] = None,
) -> StreamingResponse:
    """Every matching readable event, streamed in constant memory. Send
    `Accept-Encoding: gzip` for a compressed stream; pass the last exported id as `after`
    for an incremental archive."""
    # Each batch of the export is read like a full page.
    check_cost(
        state.settings.max_page_size * filter_cost(query_filter),
        state.settings.max_request_cost,
        path="filter",
    )
    batches = export_events(
        db=state.db, scope=principal.read_scope, query_filter=query_filter, after_id=after
    )
    # Read the first batch now so a bad filter is a 400, not a broken stream.
    first = await anext(batches, None)

    async def lines() -> AsyncIterator[bytes]:
        if first is None:
            return
        yield b"".join(ndjson_line(row) for row in first)
        async for batch in batches:
            yield b"".join(ndjson_line(row) for row in batch)

    headers = {"Vary": "Accept-Encoding", "Cache-Control": "no-store"}
    if not _accepts_gzip(request):
        return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)
    headers["Content-Encoding"] = "gzip"
    return StreamingResponse(_gzip(lines()), media_type="application/x-ndjson", headers=headers)


async def _gzip(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    async for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


@router.get(
    "/api/events/{id}",
    summary="Get one event",
    response_model=None,
    responses={200: {"model": EventOut}},
)
async def get_event(
    state: StateDep,
    principal: AuthenticatedDep,
    id: Annotated[str, Path(description="Event id (ULID)")],
) -> JsonResponse:
    """The event, or 404 when it does not exist or the caller cannot read it."""
    found = await read_service.get_events(db=state.db, scope=principal.read_scope, ids=[id])
    row = found.get(id)
    if row is None:
        raise NotFound(f"event {id!r} not found", path="id")
    return JsonResponse(event_camel(row))
