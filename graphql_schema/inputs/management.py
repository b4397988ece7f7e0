"""Inputs of the admin mutations: workspaces, channels, tokens."""

from __future__ import annotations

import strawberry

from graphql_schema.scalars import JSON, DateTime
from graphql_schema.types.token import TokenKind


@strawberry.input(description="A new workspace.")
class CreateWorkspaceInput:
    name: str
    id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A slug; generated from the name when absent."
    )


@strawberry.input(description="A new channel.")
class CreateChannelInput:
    id: strawberry.ID = strawberry.field(description="A slug, unique across workspaces.")
    name: str
    workspace_id: strawberry.ID
    private: bool = strawberry.field(
        default=False, description="Only tokens scoped to it (or its workspace) can read it."
    )
    strict_types: bool = strawberry.field(
        default=False, description="Require a listed type and valid data on every event."
    )
    schemas: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Event type → JSON Schema of its data."
    )


@strawberry.input(description="Changes to a channel; absent fields stay as they are.")
class UpdateChannelInput:
    name: str | None = strawberry.UNSET
    private: bool | None = strawberry.UNSET
    strict_types: bool | None = strawberry.UNSET
    schemas: JSON | None = strawberry.UNSET


@strawberry.input(description="A new token; its secret is returned once.")
class CreateTokenInput:
    name: str
    kind: TokenKind
    channel_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Channels it may read (and publish into)."
    )
    workspace_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Workspaces whose channels it may read (and publish into).",
    )
    publisher_id: strawberry.ID | None = strawberry.UNSET
    publisher_name: str | None = strawberry.UNSET
    expires_at: DateTime | None = strawberry.UNSET


__all__ = ["CreateChannelInput", "CreateTokenInput", "CreateWorkspaceInput", "UpdateChannelInput"]
