"""Pydantic models that document the REST shapes in OpenAPI (responses are built in
``rest/shapes.py``; these models describe them for ``/docs``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rest.params import DB_INT_MAX

_EVENT_EXAMPLE: dict[str, Any] = {
    "id": "01HZQX5K9V6BMRJ3WYAT0GN1PH",
    "type": "price.update",
    "channelId": "market-signals",
    "workspaceId": "acme",
    "subjectId": "btc",
    "userId": "user_abc123",
    "parentId": None,
    "publisherId": "agent-001",
    "publisherName": "Market Agent",
    "data": {"symbol": "BTC", "price": 67500.0},
    "meta": None,
    "createdAt": "2025-01-15T09:30:01.000Z",
}


_ERROR_EXAMPLE: dict[str, Any] = {
    "error": {"code": "BAD_USER_INPUT", "message": "limit: ...", "path": "limit"}
}


class ErrorDetail(BaseModel):
    code: str = Field(description="BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...")
    message: str
    path: str | None = Field(None, description="The parameter at fault, e.g. `filter.type.eqq`")


class ErrorOut(BaseModel):
    """Every error, on every route."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": {"code": "BAD_USER_INPUT", "message": "limit: ...", "path": "limit"}
            }
        }
    )
    error: ErrorDetail


class EventOut(BaseModel):
    """An event: the GraphQL ``Event`` scalars in camelCase."""

    model_config = ConfigDict(json_schema_extra={"example": _EVENT_EXAMPLE})
    id: str = Field(description="ULID assigned by the server")
    type: str | None = None
    channelId: str  # noqa: N815 - wire name
    workspaceId: str  # noqa: N815 - wire name
    subjectId: str | None = None  # noqa: N815 - wire name
    userId: str | None = None  # noqa: N815 - wire name
    parentId: str | None = None  # noqa: N815 - wire name
    publisherId: str | None = None  # noqa: N815 - wire name
    publisherName: str | None = None  # noqa: N815 - wire name
    data: Any = None
    meta: Any = None
    createdAt: str = Field(description="UTC, ISO 8601 with milliseconds and Z")  # noqa: N815


class PageInfoOut(BaseModel):
    total: int = Field(description="All matching readable events, ignoring paging")
    hasNextPage: bool  # noqa: N815 - wire name
    hasPreviousPage: bool  # noqa: N815 - wire name
    startCursor: str | None = Field(None, description="Pass as `before` for the previous page")  # noqa: N815
    endCursor: str | None = Field(None, description="Pass as `after` for the next page")  # noqa: N815


class EventListOut(BaseModel):
    data: list[EventOut]
    pageInfo: PageInfoOut  # noqa: N815 - wire name


class ChannelEventOut(BaseModel):
    """Seed 003's snake_case event."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "01HZQX5K9V6BMRJ3WYAT0GN1PH",
                "channel_id": "market-signals",
                "type": "price.update",
                "data": {"symbol": "BTC", "price": 67500.0},
                "publisher_id": "agent-001",
                "publisher_name": "Market Agent",
                "created_at": "2025-01-15T09:30:01.000Z",
                "meta": '{"component": "price-ticker@0.1"}',
            }
        }
    )
    id: str
    channel_id: str
    type: str | None = None
    subject_id: str | None = None
    user_id: str | None = None
    parent_id: str | None = None
    data: Any = None
    publisher_id: str | None = None
    publisher_name: str | None = None
    created_at: str
    meta: Any = None


class ChannelEventsOut(BaseModel):
    events: list[ChannelEventOut]
    cursor: str | None = Field(
        None, description="Pass back as `cursor` to get the events published after this page"
    )
    has_more: bool


class AdminEventOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "01HZQX5K9V6BMRJ3WYAT0GN1PH",
                "userId": "user_abc123",
                "event": "user:signed_up",
                "properties": {"plan": "pro", "source": "website"},
                "occurredAt": "2025-01-15T10:30:00.000Z",
            }
        }
    )
    id: str
    userId: str | None = None  # noqa: N815 - wire name
    event: str | None = Field(None, description="The event type")
    properties: Any = Field(None, description="The event data")
    occurredAt: str = Field(description="createdAt")  # noqa: N815 - wire name


class AdminEventListOut(BaseModel):
    events: list[AdminEventOut]
    total: int
    limit: int
    offset: int


class AdminEventOneOut(BaseModel):
    event: AdminEventOut


class ReplayFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str | None = Field(None, description="Event type")
    userId: str | None = None  # noqa: N815 - wire name
    from_: str | None = Field(None, alias="from", description="ISO 8601, inclusive")
    to: str | None = Field(None, description="ISO 8601, inclusive")


class ReplayIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"filter": {"event": "user:signed_up"}, "limit": 100}},
    )
    eventIds: list[str] | None = Field(None, description="Events to replay")  # noqa: N815
    filter: ReplayFilterIn | None = None
    limit: int | None = Field(
        None, ge=1, le=DB_INT_MAX, description="Most events replayed by this request"
    )


class ReplayErrorOut(BaseModel):
    eventId: str  # noqa: N815 - wire name
    error: str


class ReplayOut(BaseModel):
    replayed: int
    errors: list[ReplayErrorOut]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input (the `path` names the parameter)"},
    401: {"model": ErrorOut, "description": "No or bad credentials"},
    403: {"model": ErrorOut, "description": "Valid credentials, not allowed"},
    404: {"model": ErrorOut, "description": "Not found"},
}
