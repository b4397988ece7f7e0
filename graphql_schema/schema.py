"""The Strawberry schema: roots, hardening extensions and caches."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from graphql_schema.errors import ErrorCodes
from graphql_schema.hardening import MAX_TOKENS, DocumentLimits
from graphql_schema.mutation import Mutation
from graphql_schema.query import Query
from graphql_schema.scalars import SCALARS


class EventgraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # ErrorCodes logs the unexpected ones; client errors are not server log noise.
        return None


schema = EventgraphSchema(
    query=Query,
    mutation=Mutation,
    extensions=[
        ErrorCodes,
        DocumentLimits,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
    ],
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
)
