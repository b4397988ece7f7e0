"""JSON Schema validation of strictly typed channels, compiled once per schema version.

fastjsonschema generates Python code from a schema; schemas come from admins only, and
remote ``$ref`` resolution is refused so a schema can never make the server fetch a URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import fastjsonschema
import orjson

from app.errors import BadInput

Validator = Callable[[Any], Any]

_MAX_CACHED = 4096
_cache: dict[tuple[str, str, str], Validator] = {}


def _refuse_remote(uri: str) -> Any:
    raise fastjsonschema.JsonSchemaDefinitionException(f"remote $ref {uri!r} is not allowed")


class _RefuseEveryScheme(Mapping[str, Callable[[str], Any]]):
    """A handler table that claims every URI scheme, so urllib is never reached."""

    def __getitem__(self, key: str) -> Callable[[str], Any]:
        return _refuse_remote

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_HANDLERS = _RefuseEveryScheme()


def schema_hash(schema: Any) -> str:
    return hashlib.sha256(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)).hexdigest()


def compile_schema(schema: Any, *, type_name: str, path: str) -> Validator:
    """Compile ``schema`` or raise ``BadInput`` naming the event type."""
    if not isinstance(schema, dict | bool):
        raise BadInput(f"the schema of type {type_name!r} must be a JSON object", path=path)
    try:
        validator: Validator = fastjsonschema.compile(schema, handlers=_HANDLERS)
    except Exception as exc:
        raise BadInput(
            f"the schema of type {type_name!r} is not a valid JSON Schema: {exc}", path=path
        ) from None
    return validator


def validator_for(channel_id: str, type_name: str, schema: Any) -> Validator:
    """The compiled validator of ``schema``, cached by (channel, type, schema hash)."""
    key = (channel_id, type_name, schema_hash(schema))
    validator = _cache.get(key)
    if validator is None:
        validator = compile_schema(schema, type_name=type_name, path=f"schemas.{type_name}")
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key] = validator
    return validator


def validate_data(channel_id: str, type_name: str, schema: Any, data: Any, *, path: str) -> None:
    """Raise ``BadInput`` (at ``path``) when ``data`` does not satisfy ``schema``."""
    validator = validator_for(channel_id, type_name, schema)
    try:
        validator(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise BadInput(
            f"data does not match the schema of type {type_name!r}: {exc.message}", path=path
        ) from None
