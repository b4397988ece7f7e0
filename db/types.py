"""Portable column types: the only place that knows how each database stores a value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Dialect, String, Text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine

# Fixed-width text keeps SQLite's lexical order equal to chronological order.
_SQLITE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def to_millis(value: datetime) -> datetime:
    """UTC, truncated to whole milliseconds: the precision everything is stored at."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def parse_instant(text: str) -> datetime:
    """ISO 8601 (a zone or offset, a bare date, or naive meaning UTC) as an aware UTC
    datetime at millisecond precision; ``ValueError`` when it is not ISO 8601 or falls
    outside years 1-9999 once converted to UTC (``0001-01-01T00:00:00+14:00``)."""
    value = datetime.fromisoformat(text)
    try:
        return to_millis(value)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 1-9999 in UTC") from None


def format_datetime(value: datetime) -> str:
    """ISO 8601 with milliseconds and ``Z``, the one wire format of timestamps."""
    if value.tzinfo is not UTC:
        value = to_millis(value)
    # From the fields: half the time of isoformat(timespec="milliseconds") + slice + "Z",
    # and this runs once per event rendered. Milliseconds truncate, as isoformat does.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )


def contains_nul(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a NUL character,
    which PostgreSQL cannot store in text or JSON."""
    pending = [value]  # iterative: a value may nest deeper than the recursion limit
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def json_as_read(value: Any, dialect: str) -> Any:
    """``value`` as a ``JsonValue`` column of ``dialect`` gives it back once stored (written
    with ``orjson.dumps``, read with ``orjson.loads``, as the engine does); ``ValueError``
    when that cannot be told here.

    On PostgreSQL ``jsonb`` orders object keys (shorter first, then by bytes) and keeps a
    number as ``numeric``, written back without an exponent: a float whose JSON has an
    exponent but no fraction comes back as the integer ``orjson.loads`` reads from those
    digits (``1e+16`` as ``10000000000000000``), and ``-0.0`` as ``0.0``. On SQLite the
    text comes back as written, except at the top level, where the column's numeric
    affinity may store a float as an integer: a top-level float raises."""
    if dialect == "postgresql":
        return _as_jsonb(value)
    if isinstance(value, float):
        raise ValueError("a top-level float may come back from SQLite as an integer")
    return value


def _as_jsonb(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_jsonb(value[key]) for key in sorted(value, key=_jsonb_key_order)}
    if isinstance(value, list):
        return [_as_jsonb(item) for item in value]
    if isinstance(value, float):
        number = Decimal(orjson.dumps(value).decode())
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:  # written as digits, no fraction
            return orjson.loads(str(int(number)))
        return value if value else 0.0  # numeric has no negative zero
    return value


def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    raw = key.encode()
    return len(raw), raw


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetime at millisecond precision on both databases."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True, precision=3))
        return dialect.type_descriptor(String(23))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = to_millis(value)
        if dialect.name == "postgresql":
            return value
        return value.strftime(_SQLITE_FORMAT)[:23]

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            # The column has millisecond precision; only normalise the zone when needed.
            return value if value.tzinfo is UTC else to_millis(value)
        return datetime.strptime(value, _SQLITE_FORMAT).replace(tzinfo=UTC)


class CodePointText(TypeDecorator[str]):
    """Text compared and sorted by code point on both databases (COLLATE "C" on PostgreSQL)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Text(collation="C"))
        # SQLite's default BINARY collation compares UTF-8 bytes, i.e. code points.
        return dialect.type_descriptor(Text())


JsonValue: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    JSONB(none_as_null=True), "postgresql"
)
