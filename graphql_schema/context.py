"""The per-request GraphQL context: settings, database, the caller and its loaders."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeAlias

import strawberry
from strawberry.fastapi import BaseContext

from app.auth.principal import Principal
from app.errors import EventgraphError
from app.events.delivery import Delivery
from app.settings import Settings
from db.database import Database
from graphql_schema.loaders import Loaders, build_loaders


class Context(BaseContext):
    """Built once per request (or WebSocket connection) by the router's context getter.

    A bad credential is kept as ``auth_error`` and raised by the first resolver that asks
    for ``principal``, so it surfaces as an ``UNAUTHENTICATED`` GraphQL error.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        delivery: Delivery,
        principal: Principal | None,
        auth_error: EventgraphError | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.db = db
        self.delivery = delivery
        self._principal = principal
        self.auth_error = auth_error

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            assert self.auth_error is not None
            raise self.auth_error
        return self._principal

    @cached_property
    def loaders(self) -> Loaders:
        return build_loaders(
            db=self.db, scope=self.principal.read_scope, max_page_size=self.settings.max_page_size
        )


Info: TypeAlias = strawberry.Info[Context, Any]
