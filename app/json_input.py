"""The one intake for JSON: strict parsing, then limits checked without recursion.

Every JSON the server accepts — REST bodies and ``filter``/``orderBy`` parameters, GraphQL
request bodies and ``variables``, ``JSON`` scalar values, archive lines — goes through
``loads`` (text) or ``check_value`` (an already parsed value) before anything walks it
recursively, so that no input can exhaust the stack or change on the way in:

- syntax is RFC 8259 (orjson): ``NaN``, ``Infinity``, invalid UTF-8 and lone surrogates are
  refused, never read as a rewritten value;
- nesting is at most ``MAX_DEPTH`` levels for a whole document and ``MAX_VALUE_DEPTH`` for a
  value (``data``, ``meta``, a filter operand);
- integers fit in 64 bits (what both databases and their drivers hold exactly); a larger
  one is refused rather than rounded to a float;
- no string or key holds NUL (PostgreSQL cannot store it in text or JSON);
- no object repeats a key: a parser keeps one of the values and drops the others without a
  word, so what is stored would differ from what was sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from app.errors import BadInput

MAX_DEPTH = 64
"""Deepest nesting of a whole JSON document (a request body, a parameter, an archive line)."""
MAX_VALUE_DEPTH = 32
"""Deepest nesting of one JSON value: stored ``data``/``meta`` and ``JSON`` scalar inputs."""
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# orjson reads an integer beyond 64 bits as a float; such an integer has 19+ digits.
_LONG_DIGITS = re.compile(rb"\d{19,}")
_INT_MAX_DIGITS = str(INT_MAX).encode()
_NON_JSON = re.compile(rb"NaN|Infinity")
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")


def _where(path: str | None) -> str:
    return path or "the request body"


class _OutOfRange(ValueError):
    pass


def _int64(text: str) -> int:
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise _OutOfRange(text)
    return value


def loads(raw: bytes | str, *, path: str | None = None) -> Any:
    """Parse strict JSON and check it against the limits above (``MAX_DEPTH`` as a whole).

    ``path`` names the input in errors (``filter``); without it, errors name the location
    inside the document (``events[0].data``). Raises ``BadInput``.
    """
    data = raw.encode(errors="surrogatepass") if isinstance(raw, str) else raw
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        hint = "; NaN, Infinity and -Infinity are not JSON" if _NON_JSON.search(data) else ""
        raise BadInput(f"{_where(path)} is not valid JSON: {exc}{hint}", path=path) from None
    # orjson refuses non-finite numbers; NUL and 64-bit overflow need their tell-tale text,
    # and a document with few brackets cannot nest deeply: the valid common case is cheap.
    long_digits = _may_overflow(data)
    scalars = long_digits or b"\\u0000" in data
    shallow = data.count(b"[") + data.count(b"{") <= MAX_DEPTH
    if (scalars or not shallow) and not _acceptable(value, MAX_DEPTH, scalars=scalars):
        raise _locate(value, root=path, max_depth=MAX_DEPTH)
    if b":" in data and (_ESCAPED_COLON.search(data) or _colons(value) != data.count(b":")):
        _refuse_duplicate_keys(data, path)
    if long_digits:
        # orjson reads an integer past 64 bits as a float: only the text can tell.
        try:
            json.loads(data, parse_int=_int64)
        except _OutOfRange as exc:
            raise BadInput(
                f"{_where(path)}: the integer {exc} does not fit in 64 bits"
                f" ({INT_MIN} to {INT_MAX}); send it as a string",
                path=path,
            ) from None
    return value


def _may_overflow(data: bytes) -> bool:
    """Whether the text may hold an integer past 64 bits: a run of 20 or more digits, or of
    19 above ``INT_MAX``. Nanosecond timestamps have 19 digits and fit, and are common."""
    return any(len(run) > 19 or run > _INT_MAX_DIGITS for run in _LONG_DIGITS.findall(data))


def _colons(value: Any) -> int:
    """How many ``:`` the text of ``value`` holds: one per key, plus those inside strings.

    Equal to the count in the raw text unless an object lost a repeated key (its pair is
    not in ``value``) or a string spelt a colon as an escape (``\\u003a``); either way
    ``_refuse_duplicate_keys`` decides exactly. orjson writes no escape for ``:``, so its
    own rendering counts them at C speed.
    """
    try:
        return orjson.dumps(value).count(b":")
    except orjson.JSONEncodeError:
        return -1  # not counted: the exact check decides


class _Repeated:
    """Stands in for an object that repeats ``key`` while the exact parse runs."""

    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> Any:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Repeated(key)
        seen.add(key)
    raise AssertionError("a shorter dict without a repeated key")  # pragma: no cover


def _refuse_duplicate_keys(data: bytes, path: str | None) -> None:
    """The exact check (the standard parser sees every pair): ``BadInput`` naming the first
    object that repeats a key, by its path. Runs only on valid JSON within the depth limit."""
    value = json.loads(data, object_pairs_hook=_pairs)
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, steps = stack.pop()
        if isinstance(item, _Repeated):
            raise _error(f"the key {item.key!r} appears more than once", path, (*steps, item.key))
        pairs = (
            item.items() if type(item) is dict else enumerate(item) if type(item) is list else ()
        )
        stack.extend((child, (*steps, key)) for key, child in reversed(list(pairs)))


def check_value(value: Any, *, path: str | None, max_depth: int = MAX_VALUE_DEPTH) -> None:
    """Refuse a parsed JSON value deeper than ``max_depth`` levels (an object or array is
    one level), or holding a non-finite float, an integer beyond 64 bits or a NUL.

    Iterative: safe on any depth. Raises ``BadInput`` naming the path of the fault.
    """
    if not _acceptable(value, max_depth, scalars=True):
        raise _locate(value, root=path, max_depth=max_depth)


def _acceptable(value: Any, max_depth: int, *, scalars: bool) -> bool:
    """One pass, level by level, without building paths (the common, valid case)."""
    if not scalars:
        return _shallow(value, max_depth)
    level = [value]
    depth = 0
    while level:
        containers = [item for item in level if type(item) in _CONTAINERS]
        others = (item for item in level if type(item) not in _CONTAINERS)
        if len(containers) < len(level) and not all(map(_scalar_ok, others)):
            return False
        if not containers:
            return True
        depth += 1
        if depth > max_depth:
            return False
        level = []
        for container in containers:
            if type(container) is dict:
                if any("\x00" in key for key in container):
                    return False
                level.extend(container.values())
            else:
                level.extend(container)
    return True


_CONTAINERS = (dict, list)


def _shallow(value: Any, max_depth: int) -> bool:
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(max_depth):
        children: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            children += [item for item in items if type(item) in _CONTAINERS]
        level = children
    return not level


def _scalar_ok(item: Any) -> bool:
    if isinstance(item, str):
        return "\x00" not in item
    if isinstance(item, bool) or item is None:
        return True
    if isinstance(item, int):
        return INT_MIN <= item <= INT_MAX
    if isinstance(item, float):
        return math.isfinite(item)
    return True


_NUL_MESSAGE = "text must not contain NUL (\\u0000) characters"


def _scalar_fault(item: Any) -> str:
    if isinstance(item, str):
        return _NUL_MESSAGE
    if isinstance(item, int):
        return f"integers must fit in 64 bits ({INT_MIN} to {INT_MAX})"
    return "NaN, Infinity and -Infinity are not JSON"


def _locate(value: Any, *, root: str | None, max_depth: int) -> BadInput:
    """The first fault of a value ``_acceptable`` refused, with its path (depth first)."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, steps = stack.pop()
        if type(item) in _CONTAINERS:
            if depth >= max_depth:
                return _error(f"JSON may nest at most {max_depth} levels", root, steps)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in reversed(list(pairs)):
                if isinstance(key, str) and "\x00" in key:
                    return _error(_NUL_MESSAGE, root, (*steps, key))
                stack.append((child, depth + 1, (*steps, key)))
        elif not _scalar_ok(item):
            return _error(_scalar_fault(item), root, steps)
    raise AssertionError("_locate called on an acceptable value")  # pragma: no cover


_MAX_PATH_CHARS = 200


def _error(message: str, root: str | None, steps: tuple[str | int, ...]) -> BadInput:
    path = root or ""
    for step in steps:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path += f".{step}" if path else step
    path = path.replace("\x00", "\\u0000")
    if len(path) > _MAX_PATH_CHARS:
        path = path[:_MAX_PATH_CHARS] + "..."
    return BadInput(f"{path or 'JSON'}: {message}", path=path or None)
