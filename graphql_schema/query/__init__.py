"""The ``Query`` root, composed from one class per domain."""

from __future__ import annotations

import strawberry

from graphql_schema.query.channels import ChannelsQuery
from graphql_schema.query.events import EventsQuery
from graphql_schema.query.tokens import TokensQuery
from graphql_schema.query.webhooks import WebhooksQuery
from graphql_schema.query.workspaces import WorkspacesQuery


@strawberry.type
class Query(EventsQuery, ChannelsQuery, WorkspacesQuery, TokensQuery, WebhooksQuery):
    pass


__all__ = ["Query"]
