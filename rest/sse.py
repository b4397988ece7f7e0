"""Server-Sent Events: ``/api/events/stream`` and ``/api/v1/channels/{id}/events/stream``.

Both are a view of the realtime stream (``app.realtime``) in ``text/event-stream`` framing
(sse-starlette): one matching event per message in commit order, ``id:`` the resume token,
``Last-Event-ID`` (header, or the ``lastEventId`` query parameter) to resume. Every client
error — bad parameters, credentials, an unknown resume id — is answered before the stream
starts, as the usual JSON error envelope.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from app.auth.principal import Principal
from app.errors import BadInput, SlowConsumer, Unauthenticated
from app.events.feed import check_channel_access
from app.realtime.streams import StreamEvent, open_stream
from app.state import AppState
from db.query.ast import Compare, Filter
from rest.deps import AuthenticatedDep, PrincipalDep, StateDep
from rest.event_params import EventFilterParams
from rest.models import ERROR_RESPONSES
from rest.params import SnapshotSize, combine, equals
from rest.shapes import event_camel

router = APIRouter(tags=["streams (Server-Sent Events)"], responses=ERROR_RESPONSES)

REPLAY_EVENT = "replay"
ERROR_EVENT = "error"

_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless `text/event-stream`. Each event is one message: `id:` the"
        " resume token, `data:` the Event as in `GET /api/events` (camelCase). Replays come"
        " as `event: replay`; a slow consumer gets a last `event: error` message"
        ' (`{"code": "SLOW_CONSUMER", "message", "resumeAfter"}`); comment lines (`: ping`) are'
        " heartbeats.",
        "content": {
            "text/event-stream": {
                "example": "id: 01HZQX5K9V6BMRJ3WYAT0GN1PH\n"
                'data: {"id":"01HZQX5K9V6BMRJ3WYAT0GN1PH","type":"price.update",...}\n\n'
            }
        },
    }
}

LastEventIdHeader = Annotated[
    str | None,
    Header(
        alias="Last-Event-ID",
        description="Resume after this event: the `id:` of the last message received"
        " (browsers send it when they reconnect). Wins over `lastEventId`.",
    ),
]
LastEventIdQuery = Annotated[
    str | None,
    Query(
        alias="lastEventId",
        description="The same as the `Last-Event-ID` header, for clients that cannot set headers.",
    ),
]
Snapshot = Annotated[
    SnapshotSize | None,
    Query(
        description="First send the last N matching events (oldest first), then go live."
        " Not together with a last event id.",
    ),
]


@dataclass(frozen=True, slots=True)
class StartAt:
    """Where a stream starts: after an event (and which parameter named it), or with a
    snapshot, or live."""

    after: str | None
    after_path: str
    snapshot: int | None


def start_at(
    last_event_id: LastEventIdHeader = None,
    last_event_id_param: LastEventIdQuery = None,
    snapshot: Snapshot = None,
) -> StartAt:
    if last_event_id:
        return StartAt(last_event_id, "Last-Event-ID", snapshot)
    return StartAt(last_event_id_param or None, "lastEventId", snapshot)


StartDep = Annotated[StartAt, Depends(start_at)]


@router.get(
    "/api/events/stream",
    summary="Stream matching events (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses=_STREAM_RESPONSE,
)
async def events_stream(
    state: StateDep,
    principal: AuthenticatedDep,
    params: Annotated[EventFilterParams, Query()],
    start: StartDep,
) -> EventSourceResponse:
    """Every newly published event matching the filter parameters of `GET /api/events`
    that the caller can read, in commit order. Requires `Authorization: Bearer <token>` or
    the `session` cookie. Resume with `Last-Event-ID` and get every later matching event
    exactly once."""
    return await _respond(state, principal, params.to_filter(), start)


@router.get(
    "/api/v1/channels/{channelId}/events/stream",
    summary="Stream a channel's events (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses=_STREAM_RESPONSE,
    tags=["channel events (/api/v1/channels)"],
)
async def channel_stream(
    state: StateDep,
    principal: PrincipalDep,
    channel_id: Annotated[str, Path(alias="channelId", description="Channel id")],
    start: StartDep,
    type: Annotated[str | None, Query(description="Only events of this type")] = None,
) -> EventSourceResponse:
    """The channel's new events in publish (commit) order. Access as for polling the
    channel: public channels need no token; private ones answer 401 without a token and
    403 to a token outside their scope."""
    await check_channel_access(db=state.db, principal=principal, channel_id=channel_id)
    query_filter = combine(Compare("channel_id", "eq", channel_id), equals("type", type))
    return await _respond(state, principal, query_filter, start)


async def _respond(
    state: AppState,
    principal: Principal,
    query_filter: Filter,
    start: StartAt,
) -> EventSourceResponse:
    """Open the stream now, so that every client error is a JSON response, then hand it to
    the response; whichever ends first (the stream, the client) closes the subscriber."""
    resources = AsyncExitStack()
    try:
        events = await resources.enter_async_context(
            open_stream(
                state.hub,
                principal=principal,
                filter=query_filter,
                after=start.after,
                snapshot=start.snapshot,
                transport="sse",
            )
        )
    except BadInput as exc:
        if exc.path == "after":
            exc.path = start.after_path
        raise
    return EventSourceResponse(
        _messages(events, resources),
        ping=state.settings.sse_ping_seconds,
        send_timeout=state.settings.sse_send_timeout_seconds,
        # Runs when the response ends without having started the body (HEAD, early errors).
        background=BackgroundTask(resources.aclose),
    )


async def _messages(
    events: AsyncIterator[StreamEvent], resources: AsyncExitStack
) -> AsyncIterator[ServerSentEvent]:
    async with resources:
        try:
            async for item in events:
                yield ServerSentEvent(
                    data=orjson.dumps(event_camel(item.row)).decode(),
                    id=item.resume_after,
                    event=REPLAY_EVENT if item.replayed else None,
                )
        except (SlowConsumer, Unauthenticated) as exc:
            resume_after = exc.resume_after if isinstance(exc, SlowConsumer) else None
            body = {"code": exc.code, "message": exc.message, "resumeAfter": resume_after}
            yield ServerSentEvent(
                data=orjson.dumps(body).decode(), id=resume_after, event=ERROR_EVENT
            )
