"""The ``Mutation`` root, composed from one class per domain."""

from __future__ import annotations

import strawberry

from graphql_schema.mutation.management import ManagementMutation
from graphql_schema.mutation.publish import PublishMutation
from graphql_schema.mutation.replay import ReplayMutation
from graphql_schema.mutation.webhooks import WebhooksMutation


@strawberry.type
class Mutation(PublishMutation, ReplayMutation, ManagementMutation, WebhooksMutation):
    pass


__all__ = ["Mutation"]
