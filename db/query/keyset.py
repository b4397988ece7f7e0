"""Opaque keyset cursors bound to an order and a filter, and the seek predicates.

A cursor is urlsafe base64 of compact JSON ``{"k": [values...], "h": hash}``: every sort
key value of the row (datetimes tagged, NULLs kept) and a short hash of the normalised
order plus the filter, so a cursor replayed against another ``orderBy`` or filter is
rejected instead of silently returning a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BindParameter, ColumnElement, FromClause, and_, false, literal, or_, tuple_

from db.query.ast import NOT_NULL_FIELDS, Entity, Filter, OrderKey
from db.types import format_datetime, parse_instant

Values = tuple[Any, ...]


class InvalidCursorError(ValueError):
    """Undecodable cursor, or one issued for another order or filter."""


def _canon(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [_canon(getattr(value, f.name)) for f in dataclasses.fields(value)]
        return [type(value).__name__, *fields]
    if isinstance(value, tuple | list):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return {"$dt": format_datetime(value)}
    return value


def binding(order: tuple[OrderKey, ...], f: Filter, ids: tuple[str, ...] | None = None) -> str:
    """A short hash of what a cursor is valid for."""
    raw = orjson.dumps(_canon([order, f, ids]), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()[:12]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"d": format_datetime(value)}
    return value


def encode_cursor(row: Mapping[str, Any], order: tuple[OrderKey, ...], bound: str) -> str:
    payload = {"k": [_encode_value(row[k.field]) for k in order], "h": bound}
    raw = orjson.dumps(payload)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, order: tuple[OrderKey, ...], bound: str, entity: Entity = "event"
) -> Values:
    """The sort key values in ``cursor``; ``InvalidCursorError`` when it does not fit."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("malformed cursor") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), list):
        raise InvalidCursorError("malformed cursor")
    if payload.get("h") != bound:
        raise InvalidCursorError("cursor belongs to another orderBy or filter")
    encoded: list[Any] = payload["k"]
    if len(encoded) != len(order):
        raise InvalidCursorError("malformed cursor")
    values: list[Any] = []
    for key, value in zip(order, encoded, strict=True):
        if value is None:
            if key.field in NOT_NULL_FIELDS[entity]:
                raise InvalidCursorError("malformed cursor")
            values.append(None)
        elif key.field == "created_at":
            if not isinstance(value, dict) or not isinstance(value.get("d"), str):
                raise InvalidCursorError("malformed cursor")
            try:
                values.append(parse_instant(value["d"]))
            except ValueError as exc:
                raise InvalidCursorError("malformed cursor") from exc
        elif isinstance(value, str):
            values.append(value)
        else:
            raise InvalidCursorError("malformed cursor")
    return tuple(values)


def _bound(value: Any, col: Any) -> ColumnElement[Any]:
    """A cursor value as a bound parameter, unless it already is one (a statement built
    once per shape takes the values at execution)."""
    return value if isinstance(value, BindParameter) else literal(value, col.type)


def _after_one(col: Any, key: OrderKey, value: Any, nullable: bool) -> ColumnElement[bool]:
    """``col`` strictly after ``value`` in one key's order (two-valued)."""
    if value is None:
        return col.is_not(None) if key.nulls == "first" else false()
    bound = _bound(value, col)
    later: ColumnElement[bool] = (col > bound) if key.direction == "asc" else (col < bound)
    if not nullable:
        return later
    guarded = and_(col.is_not(None), later)
    return or_(guarded, col.is_(None)) if key.nulls == "last" else guarded


def _equal_one(col: Any, value: Any, nullable: bool) -> ColumnElement[bool]:
    if value is None:
        return col.is_(None)  # type: ignore[no-any-return]
    equal: ColumnElement[bool] = col == _bound(value, col)
    return and_(col.is_not(None), equal) if nullable else equal


def seek(
    order: tuple[OrderKey, ...],
    values: Values,
    table: FromClause,
    *,
    inclusive: bool = False,
    entity: Entity = "event",
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``order`` (at or after when ``inclusive``).

    ``values`` may hold ``BindParameter``s in place of non-NULL values; NULLs shape the
    predicate, so they are always given as ``None``."""
    not_null = NOT_NULL_FIELDS[entity]
    cols = [table.c[k.field] for k in order]
    directions = {k.direction for k in order}
    if all(k.field in not_null for k in order) and len(directions) == 1:
        # A row-value comparison lets the (created_at, id) btree seek directly.
        left = tuple_(*cols)
        right = tuple_(*(_bound(v, c) for v, c in zip(values, cols, strict=True)))
        if directions == {"asc"}:
            return left >= right if inclusive else left > right
        return left <= right if inclusive else left < right
    branches: list[ColumnElement[bool]] = []
    prefix: list[ColumnElement[bool]] = []
    for key, col, value in zip(order, cols, values, strict=True):
        nullable = key.field not in not_null
        branches.append(and_(*prefix, _after_one(col, key, value, nullable)))
        prefix.append(_equal_one(col, value, nullable))
    if inclusive:
        branches.append(and_(*prefix))
    return or_(*branches)
