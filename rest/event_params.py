"""The query parameters of ``/api/events`` and its export: one model each, validated once.

The routes declare them as FastAPI query models and ``rest.fast_list`` validates the same
models with ``model_validate``, so both paths take every parameter decision — integer
syntax and range, unknown parameters ignored, the last of repeated values — in one place.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from db.query.ast import Filter
from rest.params import (
    PageSize,
    between,
    combine,
    equals,
    parse_datetime,
    parse_filter,
)

FILTER_EXAMPLES = [
    '{"type":{"in":["price.update","price.close"]},"data":{"path":{"path":["price"],"gt":100}}}',
    '{"OR":[{"channelId":{"eq":"market-signals"}},{"channelId":{"eq":"news"}}],'
    '"NOT":{"publisherId":{"eq":"agent-001"}}}',
    '{"parent":{"type":{"eq":"order.created"}}}',
]
ORDER_EXAMPLES = [
    '[{"createdAt":"desc"},{"id":"desc"}]',
    '[{"type":"asc_nulls_last"},{"createdAt":"asc"}]',
]


class EventFilterParams(BaseModel):
    """``filter`` AND every shorthand; unknown parameters are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    filter: Annotated[
        str | None,
        Query(
            description="JSON-encoded `EventFilter` (the GraphQL input: AND/OR/NOT, per-field"
            " operators, JSON paths, relations). Up to 32 KB. Examples: type is one of two"
            " values and data.price > 100; an OR of two channels not by a given publisher;"
            " events whose parent is of type order.created.",
            examples=FILTER_EXAMPLES,
        ),
    ] = None
    workspace_id: Annotated[str | None, Query(description="Shorthand: workspaceId equals")] = None
    type: Annotated[
        str | None, Query(description="Shorthand: type equals", examples=["agent.created"])
    ] = None
    topic: Annotated[str | None, Query(description="Alias of `type` (seed 000)")] = None
    subject_id: Annotated[str | None, Query(description="Shorthand: subjectId equals")] = None
    parent_id: Annotated[str | None, Query(description="Shorthand: parentId equals")] = None
    user_id: Annotated[str | None, Query(description="Shorthand: userId equals")] = None
    created_at_after: Annotated[
        str | None,
        Query(description="ISO 8601: createdAt at or after (inclusive)", examples=["2025-03-20"]),
    ] = None
    created_at_before: Annotated[
        str | None, Query(description="ISO 8601: createdAt at or before (inclusive)")
    ] = None
    since: Annotated[
        str | None,
        Query(
            description="ISO 8601: createdAt strictly after (seed 000)",
            examples=["2025-03-20T00:00:00Z"],
        ),
    ] = None

    def to_filter(self) -> Filter:
        """The JSON ``filter`` AND every shorthand (``BadInput`` naming the parameter)."""
        leaves = [
            *equals("workspace_id", self.workspace_id),
            *equals("type", self.type),
            *equals("type", self.topic),
            *equals("subject_id", self.subject_id),
            *equals("parent_id", self.parent_id),
            *equals("user_id", self.user_id),
            *between(
                "created_at",
                gte=parse_datetime(self.created_at_after, path="created_at_after"),
                lte=parse_datetime(self.created_at_before, path="created_at_before"),
                gt=parse_datetime(self.since, path="since"),
            ),
        ]
        return combine(parse_filter(self.filter), leaves)


class EventListParams(EventFilterParams):
    """``GET /api/events``: the filter parameters plus paging and order."""

    limit: Annotated[PageSize, Query(description="Page size (1-100)")] = 100
    after: Annotated[
        str | None, Query(description="Cursor (`pageInfo.endCursor`): the page after it")
    ] = None
    before: Annotated[
        str | None, Query(description="Cursor (`pageInfo.startCursor`): the page before it")
    ] = None
    ids: Annotated[
        str | None,
        Query(description="Comma-separated ids (at most 100); narrows within your scope"),
    ] = None
    order_by: Annotated[
        str | None,
        Query(
            alias="orderBy",
            description="JSON-encoded `[EventOrderBy]`: one field per element, directions"
            " asc/desc/asc_nulls_first/asc_nulls_last/desc_nulls_first/desc_nulls_last."
            " Default newest first.",
            examples=ORDER_EXAMPLES,
        ),
    ] = None


class ExportParams(EventFilterParams):
    """``GET /api/events/export.ndjson``: the filter parameters plus an id to resume after."""

    after: Annotated[
        str | None,
        Query(description="An event id: export only events with a greater id (incremental)"),
    ] = None
