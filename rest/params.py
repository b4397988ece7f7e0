"""Query-string parsing: JSON ``filter``/``orderBy``, shorthands and aliases → query values.

``filter`` and ``orderBy`` go through the GraphQL input coercion (one grammar, one
validator, the same error paths as GraphQL); shorthands become AST leaves ANDed with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

from app.errors import BadInput
from app.json_input import loads
from db.query.ast import TRUE, And, Compare, Filter, OrderKey
from db.types import parse_instant
from graphql_schema.inputs.coerce import coerce_filter, coerce_order

MAX_IDS = 100
DB_INT_MAX = 2**63 - 1
"""The largest integer both databases store and bind (BIGINT, SQLite's INTEGER)."""

_DECIMAL = re.compile(r"-?[0-9]+")


def _decimal(value: object) -> object:
    # int() and pydantic accept "1_0", " 5", "5.0" or digits of other scripts; a
    # parameter is plain ASCII decimal. Past 20 characters it is out of range anyway.
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise ValueError("must be a decimal integer in ASCII digits")
        if len(value) > 20:
            raise ValueError(f"must be between {-DB_INT_MAX} and {DB_INT_MAX}")
    return value


_DECIMAL_ONLY = BeforeValidator(_decimal)


def _documented(minimum: int, maximum: int) -> WithJsonSchema:
    # A constraint after a BeforeValidator would be emitted as "ge"/"le", not OpenAPI's words.
    return WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum})


PageSize = Annotated[int, _DECIMAL_ONLY, Field(ge=1, le=100), _documented(1, 100)]
"""``limit`` of the REST lists: ASCII digits, 1-100, else a 400 naming it."""
Offset = Annotated[int, _DECIMAL_ONLY, Field(ge=0, le=DB_INT_MAX), _documented(0, DB_INT_MAX)]
"""A row offset: ASCII digits, 0 up to the databases' integer range, else a 400."""
SnapshotSize = Annotated[int, _DECIMAL_ONLY, Field(ge=0, le=1000), _documented(0, 1000)]
"""``snapshot`` of the streams: ASCII digits, 0-1000, else a 400 naming it."""


def parse_filter(raw: str | None, *, path: str = "filter") -> Filter:
    """A JSON ``EventFilter`` → AST (``TRUE`` when absent)."""
    if raw is None:
        return TRUE
    return _coerced_filter(raw, path)


# Pollers send the same filter again and again; the AST is immutable, errors are not cached.
@functools.lru_cache(maxsize=512)
def _coerced_filter(raw: str, path: str) -> Filter:
    return coerce_filter(loads(raw, path=path), path=path)


@functools.lru_cache(maxsize=512)
def _coerced_order(raw: str, path: str) -> tuple[OrderKey, ...]:
    return coerce_order(loads(raw, path=path), path=path)


def parse_order(raw: str | None, *, path: str = "orderBy") -> tuple[OrderKey, ...]:
    """A JSON ``[EventOrderBy]`` (a single object is accepted too) → order keys."""
    if raw is None:
        return ()
    return _coerced_order(raw, path)


def parse_datetime(raw: str | None, *, path: str) -> datetime | None:
    """ISO 8601 (``Z`` or an offset; a bare date is midnight UTC; naive means UTC)."""
    if raw is None:
        return None
    try:
        return parse_instant(raw.strip())
    except ValueError as exc:
        raise BadInput(
            f"{path} must be an ISO 8601 date-time such as 2025-03-20T00:00:00Z ({exc})",
            path=path,
        ) from None


def parse_ids(raw: str | None, *, path: str = "ids") -> tuple[str, ...] | None:
    """Comma-separated ids (blanks ignored, duplicates kept once), at most ``MAX_IDS``."""
    if raw is None:
        return None
    ids = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(ids) > MAX_IDS:
        raise BadInput(f"at most {MAX_IDS} ids", path=path)
    return ids


def equals(field: str, value: str | None) -> list[Filter]:
    return [] if value is None else [Compare(field, "eq", value)]


def between(
    field: str,
    *,
    gte: datetime | None = None,
    lte: datetime | None = None,
    gt: datetime | None = None,
) -> list[Filter]:
    """Inclusive (``gte``/``lte``) and strict (``gt``) bounds on a timestamp column."""
    leaves: list[Filter] = []
    if gte is not None:
        leaves.append(Compare(field, "gte", gte))
    if lte is not None:
        leaves.append(Compare(field, "lte", lte))
    if gt is not None:
        leaves.append(Compare(field, "gt", gt))
    return leaves


def combine(base: Filter, leaves: Sequence[Filter]) -> Filter:
    """``base AND leaves`` without wrapping when there is nothing to add."""
    if not leaves:
        return base
    if base == TRUE:
        return leaves[0] if len(leaves) == 1 else And(tuple(leaves))
    return And((base, *leaves))
