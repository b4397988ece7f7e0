"""The per-request GraphQL context: settings, database, the caller and its loaders."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeAlias

import strawberry
from strawberry.fastapi import BaseContext

from app.auth.principal import Principal
from app.auth.tokens import authenticate
from app.errors import EventgraphError
from app.events.delivery import Delivery
from app.realtime.hub import Hub
from app.settings import Settings
from db.database import Database
from graphql_schema.loaders import Loaders, build_loaders


class Context(BaseContext):
    """Built once per request, or once per WebSocket connection and then copied for each
    operation on it (``for_operation``: the credential re-checked, fresh loaders).

    A bad credential is kept as ``auth_error`` and raised by the first resolver that asks
    for ``principal``, so it surfaces as an ``UNAUTHENTICATED`` GraphQL error.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        delivery: Delivery,
        hub: Hub,
        principal: Principal | None,
        auth_error: EventgraphError | None = None,
        secret: str | None = None,
        websocket: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.db = db
        self.delivery = delivery
        self.hub = hub
        self._principal = principal
        self.auth_error = auth_error
        self.secret = secret
        self.websocket = websocket

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

    def reset_loaders(self) -> None:
        """Forget cached lookups (a subscription does so before each event)."""
        self.__dict__.pop("loaders", None)

    async def sign_in(self, secret: str) -> None:
        """Authenticate a WebSocket's ``connection_init`` credential; raises when it is bad."""
        self._principal = await authenticate(db=self.db, settings=self.settings, secret=secret)
        self.auth_error = None
        self.secret = secret

    async def for_operation(self) -> Context:
        """A context for one operation on this WebSocket: the credential checked again (a
        revoked or expired token fails the operation) and loaders of its own."""
        try:
            principal: Principal | None = await authenticate(
                db=self.db, settings=self.settings, secret=self.secret
            )
            error = None
        except EventgraphError as exc:
            principal, error = None, exc
        context = Context(
            settings=self.settings,
            db=self.db,
            delivery=self.delivery,
            hub=self.hub,
            principal=principal,
            auth_error=error,
            secret=self.secret,
            websocket=True,
        )
        context.request, context.response = self.request, self.response
        context.connection_params = self.connection_params
        return context


Info: TypeAlias = strawberry.Info[Context, Any]
