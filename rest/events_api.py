"""Seed 002 (+ seed 000's aliases): ``/api/events``, one event, and the NDJSON export."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.errors import BadInput, NotFound
from app.events import read as read_service
from app.events.archive import export_events, ndjson_line
from app.events.cost import check_cost, filter_cost, top_level_cost
from app.events.read import EventQuery, PageRequest
from app.state import AppState
from rest.deps import AuthenticatedDep, StateDep
from rest.event_params import EventListParams, ExportParams
from rest.models import ERROR_RESPONSES, EventListOut, EventOut
from rest.params import parse_ids, parse_order
from rest.shapes import JsonResponse, event_camel, event_camel_raw

router = APIRouter(tags=["events (/api/events)"], responses=ERROR_RESPONSES)


@router.get(
    "/api/events",
    summary="List events",
    response_model=None,
    responses={200: {"model": EventListOut}},
)
async def list_events(
    state: StateDep,
    principal: AuthenticatedDep,
    params: Annotated[EventListParams, Query()],
) -> JsonResponse:
    """Events readable by the caller, newest first unless `orderBy` says otherwise, with
    keyset cursors. Requires `Authorization: Bearer <token>` or the `session` cookie."""
    return JsonResponse(await events_page(state=state, principal=principal, params=params))


async def events_page(
    *, state: AppState, principal: Principal, params: EventListParams
) -> dict[str, Any]:
    """The body of ``GET /api/events`` (also served by ``rest.fast_list``)."""
    settings, db = state.settings, state.db
    after, before = params.after, params.before
    if after is not None and before is not None:
        raise BadInput("pass either after or before, not both", path="before")
    query_filter = params.to_filter()
    query = EventQuery(
        filter=query_filter,
        order=parse_order(params.order_by),
        ids=parse_ids(params.ids),
    )
    size = min(params.limit, settings.max_page_size)
    check_cost(top_level_cost(size, query_filter), settings.max_request_cost, path="filter")
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
    params: Annotated[ExportParams, Query()],
) -> StreamingResponse:
    """Every matching readable event, streamed in constant memory. Send
    `Accept-Encoding: gzip` for a compressed stream; pass the last exported id as `after`
    for an incremental archive."""
    query_filter = params.to_filter()
    # Each batch of the export is read like a full page.
    check_cost(
        state.settings.max_page_size * filter_cost(query_filter),
        state.settings.max_request_cost,
        path="filter",
    )
    batches = export_events(
        db=state.db,
        scope=principal.read_scope,
        query_filter=query_filter,
        after_id=params.after,
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
