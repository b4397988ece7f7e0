"""Admin mutations: workspaces, channels and tokens."""

from __future__ import annotations

import strawberry

from app.channels.service import create_channel, delete_channel, update_channel
from app.tokens.service import create_token, revoke_token
from app.workspaces.service import create_workspace
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs.arguments import given
from graphql_schema.inputs.management import (
    CreateChannelInput,
    CreateTokenInput,
    CreateWorkspaceInput,
    UpdateChannelInput,
)
from graphql_schema.permissions import IsAdmin
from graphql_schema.types.channel import Channel
from graphql_schema.types.token import CreatedToken, Token
from graphql_schema.types.workspace import Workspace


@strawberry.type
class ManagementMutation:
    @fields.mutation(description="Create a workspace (admin).", permission_classes=[IsAdmin])
    async def create_workspace(self, info: Info, input: CreateWorkspaceInput) -> Workspace:
        context = info.context
        row = await create_workspace(
            db=context.db, principal=context.principal, id=given(input.id), name=input.name
        )
        return Workspace.from_row(row)

    @fields.mutation(description="Create a channel (admin).", permission_classes=[IsAdmin])
    async def create_channel(self, info: Info, input: CreateChannelInput) -> Channel:
        context = info.context
        row = await create_channel(
            db=context.db,
            principal=context.principal,
            id=input.id,
            name=input.name,
            workspace_id=input.workspace_id,
            private=input.private,
            strict_types=input.strict_types,
            schemas=given(input.schemas),  # type: ignore[arg-type]
        )
        return Channel.from_row(row)

    @fields.mutation(
        description="Change a channel; absent fields stay as they are (admin).",
        permission_classes=[IsAdmin],
    )
    async def update_channel(
        self, info: Info, id: strawberry.ID, input: UpdateChannelInput
    ) -> Channel:
        context = info.context
        row = await update_channel(
            db=context.db,
            principal=context.principal,
            id=id,
            name=given(input.name),
            private=given(input.private),
            strict_types=given(input.strict_types),
            schemas=given(input.schemas),  # type: ignore[arg-type]
        )
        return Channel.from_row(row)

    @fields.mutation(
        description="Delete a channel and its events; returns its id (admin).",
        permission_classes=[IsAdmin],
    )
    async def delete_channel(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        context = info.context
        return strawberry.ID(
            await delete_channel(db=context.db, principal=context.principal, id=id)
        )

    @fields.mutation(
        description="Create a token; the secret is returned here only (admin).",
        permission_classes=[IsAdmin],
    )
    async def create_token(self, info: Info, input: CreateTokenInput) -> CreatedToken:
        context = info.context
        row, secret = await create_token(
            db=context.db,
            principal=context.principal,
            name=input.name,
            kind=input.kind.value,
            channel_ids=list(input.channel_ids),
            workspace_ids=list(input.workspace_ids),
            publisher_id=given(input.publisher_id),
            publisher_name=given(input.publisher_name),
            expires_at=given(input.expires_at),
        )
        return CreatedToken(token=Token.from_row(row), secret=secret)

    @fields.mutation(
        description="Revoke a token; idempotent (admin).", permission_classes=[IsAdmin]
    )
    async def revoke_token(self, info: Info, id: strawberry.ID) -> Token:
        context = info.context
        row = await revoke_token(db=context.db, principal=context.principal, id=id)
        return Token.from_row(row)
