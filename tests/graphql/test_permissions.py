"""Every mutation declares a permission class (the use-case checks finer rules too)."""

from __future__ import annotations

from strawberry.types.base import get_object_definition

from graphql_schema.mutation import Mutation
from graphql_schema.permissions import IsAdmin, IsAuthenticated
from graphql_schema.query import Query

# Root query fields that are open to anonymous callers: their reads are scoped instead.
SCOPED_READS = {"events", "event", "channels", "channel", "workspaces", "workspace"}


def test_every_mutation_has_a_permission() -> None:
    definition = get_object_definition(Mutation, strict=True)
    missing = [
        field.python_name
        for field in definition.fields
        if not any(issubclass(p, (IsAdmin, IsAuthenticated)) for p in field.permission_classes)
    ]
    assert definition.fields
    assert missing == [], f"mutations without a permission class: {missing}"


def test_every_query_field_is_scoped_or_guarded() -> None:
    definition = get_object_definition(Query, strict=True)
    unguarded = [
        field.graphql_name or field.python_name
        for field in definition.fields
        if not field.permission_classes and field.python_name not in SCOPED_READS
    ]
    assert unguarded == [], f"query fields neither scoped nor guarded: {unguarded}"
