"""Pure-Python definitions of the value semantics shared by both interpreters.

The in-memory evaluator uses these directly, and SQLite runs the JSON ones as registered
deterministic functions (``db/engine.py``), so the three cannot drift apart. PostgreSQL
compiles to native operators with the same results (checked by the differential test).
No SQLAlchemy here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import orjson

MISSING: Any = object()
"""What ``resolve_path`` returns when the path does not resolve."""

_DIGITS = re.compile(r"[0-9]+")
# Steps PostgreSQL's ``#>`` would read as an array index although they are not plain digits.
_PG_INDEX_LIKE = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")

Token = tuple[Literal["lit", "any", "one"], str]


# --- LIKE patterns -----------------------------------------------------------------------


def like_tokens(pattern: str) -> list[Token]:
    """Split a LIKE pattern (``\\`` escapes) into literal characters and wildcards.

    A ``\\`` escapes the next character whatever it is; a trailing lone ``\\`` is a literal.
    """
    tokens: list[Token] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            tokens.append(("lit", next(chars, "\\")))
        elif char == "%":
            tokens.append(("any", "%"))
        elif char == "_":
            tokens.append(("one", "_"))
        else:
            tokens.append(("lit", char))
    return tokens


def canonical_like(pattern: str) -> str:
    """The same pattern with escapes exactly where both databases agree on them."""
    out: list[str] = []
    for kind, char in like_tokens(pattern):
        if kind == "lit":
            out.append("\\" + char if char in "\\%_" else char)
        else:
            out.append(char)
    return "".join(out)


def escape_like(value: str) -> str:
    """A LIKE pattern matching ``value`` literally."""
    return "".join("\\" + c if c in "\\%_" else c for c in value)


def like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for kind, char in like_tokens(pattern):
        parts.append(re.escape(char) if kind == "lit" else (".*" if kind == "any" else "."))
    return re.compile("".join(parts), re.DOTALL)


def like(value: str, pattern: str) -> bool:
    return like_regex(pattern).fullmatch(value) is not None


def ilike(value: str, pattern: str) -> bool:
    return like(value.lower(), pattern.lower())


# --- JSON values ---------------------------------------------------------------------------


def json_kind(value: Any) -> str:
    """The JSON type name of a decoded value (PostgreSQL ``jsonb_typeof`` names)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def json_equal(a: Any, b: Any) -> bool:
    """Structural equality: numbers numerically, booleans never equal to numbers."""
    kind = json_kind(a)
    if kind != json_kind(b):
        return False
    if kind == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, list | dict)


def _deep_contains(doc: Any, tmpl: Any) -> bool:
    if isinstance(tmpl, dict):
        return isinstance(doc, dict) and all(
            k in doc and _deep_contains(doc[k], v) for k, v in tmpl.items()
        )
    if isinstance(tmpl, list):
        if not isinstance(doc, list):
            return False
        for item in tmpl:
            if _is_scalar(item):
                found = any(_is_scalar(d) and json_equal(d, item) for d in doc)
            else:
                found = any(
                    json_kind(d) == json_kind(item) and _deep_contains(d, item) for d in doc
                )
            if not found:
                return False
        return True
    return _is_scalar(doc) and json_equal(doc, tmpl)


def json_contains(doc: Any, tmpl: Any) -> bool:
    """PostgreSQL ``doc @> tmpl``, including its top-level array-contains-scalar exception."""
    if isinstance(doc, list) and _is_scalar(tmpl):
        return any(_is_scalar(d) and json_equal(d, tmpl) for d in doc)
    return _deep_contains(doc, tmpl)


def has_keys(doc: Any, keys: tuple[str, ...] | list[str], mode: Literal["any", "all"]) -> bool:
    """Top-level object keys only; ``any`` of none is false, ``all`` of none is true."""
    if not isinstance(doc, dict):
        return False
    if mode == "any":
        return any(k in doc for k in keys)
    return all(k in doc for k in keys)


def is_array_index(step: str) -> bool:
    return _DIGITS.fullmatch(step) is not None


def pg_reads_as_index(step: str) -> bool:
    """True for steps PostgreSQL would wrongly apply to an array (``-1``, `` 1``)."""
    return not is_array_index(step) and _PG_INDEX_LIKE.fullmatch(step) is not None


def resolve_path(doc: Any, path: tuple[str, ...] | list[str]) -> Any:
    """The value at ``path`` (object keys; digit steps index arrays) or ``MISSING``."""
    current = doc
    for step in path:
        if isinstance(current, dict):
            if step not in current:
                return MISSING
            current = current[step]
        elif isinstance(current, list) and is_array_index(step):
            index = int(step)
            if index >= len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


def json_compare(found: Any, op: str, value: Any) -> bool:
    """``found op value`` for a path test; ``found`` may be ``MISSING``."""
    if op == "exists":
        return (found is not MISSING) == bool(value)
    if op == "neq":
        return not json_compare(found, "eq", value)
    if found is MISSING:
        return False
    if op == "eq":
        return json_equal(found, value)
    if op == "in":
        return any(json_equal(found, v) for v in value)
    kind = json_kind(value)
    if kind not in ("number", "string") or json_kind(found) != kind:
        return False
    if op == "lt":
        return bool(found < value)
    if op == "lte":
        return bool(found <= value)
    if op == "gt":
        return bool(found > value)
    if op == "gte":
        return bool(found >= value)
    raise ValueError(f"unknown JSON path operator {op!r}")


# --- SQLite functions: decoded from JSON text, results as 0/1 ------------------------------


def _load(text: str | bytes | float | None) -> Any:
    if text is None:
        return MISSING
    if isinstance(text, int | float):
        # The JSON column has NUMERIC affinity: SQLite stores a top-level number as one.
        return text
    return orjson.loads(text)


def sqlite_json_contains(doc: str | float | None, tmpl: str) -> int:
    value = _load(doc)
    return int(value is not MISSING and json_contains(value, orjson.loads(tmpl)))


def sqlite_json_has_keys(doc: str | float | None, keys: str, mode: str) -> int:
    value = _load(doc)
    return int(value is not MISSING and has_keys(value, orjson.loads(keys), mode))  # type: ignore[arg-type]


def sqlite_json_path(doc: str | float | None, spec: str) -> int:
    """``spec`` is ``[path, op, value]`` as JSON; a SQL NULL document resolves nothing."""
    path, op, value = orjson.loads(spec)
    loaded = _load(doc)
    found = MISSING if loaded is MISSING else resolve_path(loaded, path)
    return int(json_compare(found, op, value))
