"""``workspaces`` and ``workspace`` root fields."""

from __future__ import annotations

import strawberry

from app.workspaces import read as workspace_read
from graphql_schema import fields
from graphql_schema.context import Info
from graphql_schema.inputs import arguments as args
from graphql_schema.inputs.workspace_filter import WorkspaceFilter
from graphql_schema.types.page_info import PageInfo
from graphql_schema.types.workspace import Workspace, WorkspaceConnection, WorkspaceEdge


@strawberry.type
class WorkspacesQuery:
    @fields.field(description="Workspaces the caller can read.")
    async def workspaces(
        self,
        info: Info,
        filter: WorkspaceFilter | None = strawberry.UNSET,
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
    ) -> WorkspaceConnection:

        context = info.context
        workspace_filter = args.given(filter)
        page = await workspace_read.list_workspaces(
            db=context.db,
            scope=context.principal.read_scope,
            filter=workspace_filter.to_query("filter") if workspace_filter else None,
            page=args.page_request(first, after, last, before),
            max_page_size=context.settings.max_page_size,
        )
        nodes = [Workspace.from_row(row) for row in page.rows]
        return WorkspaceConnection(
            edges=[
                WorkspaceEdge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)
            ],
            nodes=nodes,
            page_info=PageInfo.from_page(page),
        )

    @fields.field(description="One workspace, or null when missing or unreadable.")
    async def workspace(self, info: Info, id: strawberry.ID) -> Workspace | None:
        row = await info.context.loaders.workspace_by_id.load(id)
        return None if row is None else Workspace.from_row(row)
