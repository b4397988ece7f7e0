"""Permission classes for root fields. Every mutation declares one (a test checks it);
finer rules (publish scope, delete-own-events) are enforced by the ``app/`` use-case too."""

from __future__ import annotations

from typing import Any, NoReturn

from strawberry.permission import BasePermission

from app.errors import Forbidden, Unauthenticated
from graphql_schema.context import Info


class IsAuthenticated(BasePermission):
    """Any valid token (anonymous callers get ``UNAUTHENTICATED``)."""

    message = "authentication required"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.is_authenticated

    def on_unauthorized(self) -> NoReturn:
        raise Unauthenticated(self.message)


class IsAdmin(BasePermission):
    """An admin token: ``UNAUTHENTICATED`` when anonymous, ``FORBIDDEN`` for other tokens."""

    message = "admin token required"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if not principal.is_authenticated:
            raise Unauthenticated("authentication required")
        return principal.is_admin

    def on_unauthorized(self) -> NoReturn:
        raise Forbidden(self.message)
