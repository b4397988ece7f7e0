"""Typed decorators for resolvers with a description (``strawberry.field(description=...)``
used as a decorator is typed ``Any``, which strict mypy rejects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]


def field(
    *, description: str, permission_classes: list[type[BasePermission]] | None = None
) -> Callable[[Resolver], StrawberryField]:
    def wrap(resolver: Resolver) -> StrawberryField:
        return strawberry.field(
            resolver, description=description, permission_classes=permission_classes
        )

    return wrap


def mutation(
    *, description: str, permission_classes: list[type[BasePermission]] | None = None
) -> Callable[[Resolver], StrawberryField]:
    def wrap(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(
            resolver, description=description, permission_classes=permission_classes
        )

    return wrap


def subscription(*, description: str) -> Callable[[Resolver], StrawberryField]:
    def wrap(resolver: Resolver) -> StrawberryField:
        return strawberry.subscription(resolver, description=description)

    return wrap
