"""The ``Subscription`` root."""

from __future__ import annotations

import strawberry

from graphql_schema.subscription.events import EventsSubscription


@strawberry.type
class Subscription(EventsSubscription):
    pass


__all__ = ["Subscription"]
