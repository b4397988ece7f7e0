"""Management routes (admin token): workspaces, channels and tokens under ``/api/v1``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.channels import read as channel_reads
from app.channels import service as channels
from app.events.read import EventPage, PageRequest
from app.records import CHANNEL_FIELDS, TOKEN_FIELDS, WORKSPACE_FIELDS, camel_record
from app.tokens import service as tokens
from app.workspaces import read as workspace_reads
from app.workspaces import service as workspaces
from db.query.ast import Compare
from rest.deps import AdminDep, StateDep
from rest.json_body import StrictJsonRoute
from rest.models import ERROR_RESPONSES, ErrorOut
from rest.params import PageSize
from rest.shapes import JsonResponse

router = APIRouter(
    prefix="/api/v1",
    tags=["management"],
    responses=ERROR_RESPONSES,
    route_class=StrictJsonRoute,
)
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The id is taken"}
}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WorkspaceIn(_Input):
    id: str | None = Field(None, description="Slug; generated from the name when absent")
    name: str = Field(examples=["Acme"])


class ChannelIn(_Input):
    id: str = Field(description="Slug chosen by the client", examples=["market-signals"])
    name: str = Field(examples=["Market signals"])
    workspace_id: str = Field(alias="workspaceId", examples=["acme"])
    private: bool = False
    strict_types: bool = Field(False, alias="strictTypes")
    schemas: dict[str, Any] = Field(
        default_factory=dict,
        description="Event type → JSON Schema (enforced with strictTypes)",
        examples=[{"price.update": {"type": "object", "required": ["symbol"]}}],
    )


class ChannelPatch(_Input):
    name: str | None = None
    private: bool | None = None
    strict_types: bool | None = Field(None, alias="strictTypes")
    schemas: dict[str, Any] | None = None


class TokenIn(_Input):
    name: str = Field(examples=["market agent"])
    kind: Literal["admin", "publish", "subscribe"]
    channel_ids: list[str] = Field(default_factory=list, alias="channelIds")
    workspace_ids: list[str] = Field(default_factory=list, alias="workspaceIds")
    publisher_id: str | None = Field(None, alias="publisherId", examples=["agent-001"])
    publisher_name: str | None = Field(None, alias="publisherName", examples=["Market Agent"])
    expires_at: datetime | None = Field(None, alias="expiresAt")


def _workspace(row: Any) -> dict[str, Any]:
    return camel_record(row, WORKSPACE_FIELDS)


def _channel(row: Any) -> dict[str, Any]:
    return camel_record(row, CHANNEL_FIELDS)


def _token(row: Any) -> dict[str, Any]:
    return camel_record(row, TOKEN_FIELDS)


@router.post("/workspaces", summary="Create a workspace", status_code=201, responses=_CONFLICT)
async def create_workspace(state: StateDep, principal: AdminDep, body: WorkspaceIn) -> JsonResponse:
    """`{id?, name}` → the workspace."""
    row = await workspaces.create_workspace(
        db=state.db, principal=principal, id=body.id, name=body.name
    )
    return JsonResponse(_workspace(row), status_code=201)


LimitQuery = Annotated[PageSize, Query(description="Page size (1-100)")]
AfterQuery = Annotated[str | None, Query(description="`pageInfo.endCursor` of the previous page")]


def _page_info(page: EventPage) -> dict[str, Any]:
    return {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor}


@router.get("/workspaces", summary="List workspaces (by id)")
async def list_workspaces(
    state: StateDep, principal: AdminDep, limit: LimitQuery = 100, after: AfterQuery = None
) -> JsonResponse:
    """`{"workspaces": [...], "pageInfo": {"hasNextPage", "endCursor"}}`."""
    page = await workspace_reads.list_workspaces(
        db=state.db,
        scope=principal.read_scope,
        filter=None,
        page=PageRequest(first=limit, after=after),
        max_page_size=100,
    )
    return JsonResponse(
        {"workspaces": [_workspace(row) for row in page.rows], "pageInfo": _page_info(page)}
    )


@router.get("/workspaces/{workspaceId}", summary="Get a workspace")
async def get_workspace(
    state: StateDep,
    principal: AdminDep,
    workspace_id: Annotated[str, Path(alias="workspaceId")],
) -> JsonResponse:
    row = await workspaces.get_workspace(db=state.db, principal=principal, id=workspace_id)
    return JsonResponse(_workspace(row))


@router.post("/channels", summary="Create a channel", status_code=201, responses=_CONFLICT)
async def create_channel(state: StateDep, principal: AdminDep, body: ChannelIn) -> JsonResponse:
    """A channel in an existing workspace; `private` channels need a scoped token to read."""
    row = await channels.create_channel(
        db=state.db,
        principal=principal,
        id=body.id,
        name=body.name,
        workspace_id=body.workspace_id,
        private=body.private,
        strict_types=body.strict_types,
        schemas=body.schemas,
    )
    return JsonResponse(_channel(row), status_code=201)


@router.get("/channels", summary="List channels (by id)")
async def list_channels(
    state: StateDep,
    principal: AdminDep,
    limit: LimitQuery = 100,
    after: AfterQuery = None,
    workspace_id: Annotated[
        str | None, Query(alias="workspaceId", description="Only this workspace's channels")
    ] = None,
) -> JsonResponse:
    """`{"channels": [...], "pageInfo": {"hasNextPage", "endCursor"}}`."""
    query_filter = None if workspace_id is None else Compare("workspace_id", "eq", workspace_id)
    page = await channel_reads.list_channels(
        db=state.db,
        scope=principal.read_scope,
        filter=query_filter,
        page=PageRequest(first=limit, after=after),
        max_page_size=100,
    )
    return JsonResponse(
        {"channels": [_channel(row) for row in page.rows], "pageInfo": _page_info(page)}
    )


@router.get("/channels/{channelId}", summary="Get a channel")
async def get_channel(
    state: StateDep, principal: AdminDep, channel_id: Annotated[str, Path(alias="channelId")]
) -> JsonResponse:
    row = await channels.get_channel(db=state.db, principal=principal, id=channel_id)
    return JsonResponse(_channel(row))


@router.patch("/channels/{channelId}", summary="Update a channel")
async def update_channel(
    state: StateDep,
    principal: AdminDep,
    channel_id: Annotated[str, Path(alias="channelId")],
    body: Annotated[ChannelPatch, Body(examples=[{"private": True}])],
) -> JsonResponse:
    """Change the given fields; `schemas` replaces the whole map."""
    row = await channels.update_channel(
        db=state.db,
        principal=principal,
        id=channel_id,
        name=body.name,
        private=body.private,
        strict_types=body.strict_types,
        schemas=body.schemas,
    )
    return JsonResponse(_channel(row))


@router.delete(
    "/channels/{channelId}", summary="Delete a channel", status_code=204, response_class=Response
)
async def delete_channel(
    state: StateDep, principal: AdminDep, channel_id: Annotated[str, Path(alias="channelId")]
) -> Response:
    """Deletes the channel and all its events."""
    await channels.delete_channel(db=state.db, principal=principal, id=channel_id)
    return Response(status_code=204)


@router.post("/tokens", summary="Create a token (the secret is shown once)", status_code=201)
async def create_token(state: StateDep, principal: AdminDep, body: TokenIn) -> JsonResponse:
    """`{"token": {...}, "secret": "eg_..."}` — store the secret now, it is never shown again."""
    row, secret = await tokens.create_token(
        db=state.db,
        principal=principal,
        name=body.name,
        kind=body.kind,
        channel_ids=body.channel_ids,
        workspace_ids=body.workspace_ids,
        publisher_id=body.publisher_id,
        publisher_name=body.publisher_name,
        expires_at=body.expires_at,
    )
    return JsonResponse({"token": _token(row), "secret": secret}, status_code=201)


@router.get("/tokens", summary="List tokens (never their secrets)")
async def list_tokens(state: StateDep, principal: AdminDep) -> JsonResponse:
    rows = await tokens.list_tokens(db=state.db, principal=principal)
    return JsonResponse({"tokens": [_token(row) for row in rows]})


@router.delete("/tokens/{tokenId}", summary="Revoke a token")
async def revoke_token(
    state: StateDep, principal: AdminDep, token_id: Annotated[str, Path(alias="tokenId")]
) -> JsonResponse:
    """Revokes the token (idempotent) and returns it with `revokedAt` set."""
    row = await tokens.revoke_token(db=state.db, principal=principal, id=token_id)
    return JsonResponse(_token(row))
