"""Every GraphQL error leaves with ``extensions.code``; unexpected faults are masked.

``EventgraphError`` anywhere in the ``original_error`` / ``__cause__`` chain gives its
message, code and path; ``DatabaseBusy`` gives ``SERVICE_UNAVAILABLE`` and
``StatementTimeout`` gives ``QUERY_TIMEOUT``; errors raised before execution are
``GRAPHQL_VALIDATION_FAILED`` (or ``BAD_USER_INPUT`` for variable values);
anything else is logged and returned as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.language.parser import MAX_NESTING_DEPTH

from app.errors import QUERY_TIMEOUT, TIMEOUT_MESSAGE, EventgraphError
from db.database import DatabaseBusy, StatementTimeout

logger = logging.getLogger("eventgraph.graphql")

INTERNAL_MESSAGE = "Internal server error"


def _cause_chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        nxt = getattr(error, "original_error", None) or error.__cause__ or error.__context__
        error = nxt


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def format_error(error: GraphQLError, *, executing: bool) -> GraphQLError:
    """The client-facing version of ``error`` (always with ``extensions.code``).

    ``executing``: the error arose once execution began (after parsing and validation),
    so one without a field path is a variable value graphql-core could not coerce.
    """
    if isinstance(error, GraphQLSyntaxError) and "nested too deeply" in error.message:
        message = f"the document nests deeper than {MAX_NESTING_DEPTH} levels"
        return _with(error, message, {"code": "BAD_USER_INPUT"})
    for cause in _cause_chain(error.original_error):
        if isinstance(cause, EventgraphError):
            extensions: dict[str, Any] = {"code": cause.code}
            if cause.path is not None:
                extensions["path"] = cause.path
            return _with(error, cause.message, extensions)
        if isinstance(cause, DatabaseBusy):
            return _with(
                error, "the database is busy; retry shortly", {"code": "SERVICE_UNAVAILABLE"}
            )
        if isinstance(cause, StatementTimeout):
            return _with(error, TIMEOUT_MESSAGE, {"code": QUERY_TIMEOUT})
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        code = (error.extensions or {}).get("code")
        if isinstance(code, str):
            return error
        if error.path is None:
            code = "BAD_USER_INPUT" if executing else "GRAPHQL_VALIDATION_FAILED"
            return _with(error, error.message, {"code": code})
    logger.error("unexpected GraphQL error: %s", error.message, exc_info=original or error)
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


def format_errors(errors: list[GraphQLError], *, executing: bool) -> None:
    """Rewrite ``errors`` in place (the list is the one the result will carry)."""
    errors[:] = [format_error(error, executing=executing) for error in errors]
