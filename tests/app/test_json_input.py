"""``app.json_input``: strict parsing and iterative limits, including the cheap paths."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import BadInput
from app.json_input import INT_MAX, INT_MIN, MAX_DEPTH, MAX_VALUE_DEPTH, check_value, loads


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ('{"n": NaN}', "filter", "NaN, Infinity and -Infinity are not JSON"),
        ('{"n": Infinity}', "filter", "NaN, Infinity and -Infinity are not JSON"),
        ('{"n": -Infinity}', "filter", "NaN, Infinity and -Infinity are not JSON"),
        ('{"n": 1e400}', "filter", "infinity"),
        ('{"s": "\\ud800"}', "filter", "surrogate"),
        (b'{"s": "\xff"}', "filter", "not valid JSON"),
        ('{"n": 180000000000000000000}', "filter", "does not fit in 64 bits"),
        ('{"n": -9223372036854775809}', "filter", "does not fit in 64 bits"),
        ('{"n": 9223372036854775808}', "filter.n", "64 bits"),
        ('{"n": -9223372036854775808, "m": 9223372036854775808}', "filter.m", "64 bits"),
        ('{"a": [1, {"n": 18446744073709551615}]}', "filter.a[1].n", "64 bits"),
        ('{"a": "x\\u0000"}', "filter.a", "NUL"),
        ('{"k\\u0000": 1}', "filter.k\\u0000", "NUL"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "filter" + "[0]" * MAX_DEPTH, "64"),
        (_nested(300), "filter" + ".a" * MAX_DEPTH, f"at most {MAX_DEPTH} levels"),
        ("[" * 5000 + "]" * 5000, "filter", "not valid JSON"),
        ('{"a": 1, "a": 1}', "filter.a", "the key 'a' appears more than once"),
        ('{"x": [0, {"b": {"c": 1, "d": 2, "c": 3}}]}', "filter.x[1].b.c", "'c' appears"),
        # colons inside strings and a repeated key: the counts cannot tell, the parse can
        ('{"t": "12:00", "u": {"a": ":", "a": ":"}}', "filter.u.a", "'a' appears"),
        ('{"u": "\\u003a", "k": 1, "k": 2}', "filter.k", "'k' appears"),
        ('{"k:": 1, "k:": 2}', "filter.k:", "'k:' appears"),
    ],
)
def test_refused(raw: str | bytes, path: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        loads(raw, path="filter")
    assert caught.value.path == path
    assert message in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        _nested(MAX_DEPTH),
        "[" * MAX_DEPTH + "]" * MAX_DEPTH,
        f'{{"lo": {INT_MIN}, "hi": {INT_MAX}, "f": 1.8e20}}',
        '{"id": "123456789012345678901234567890", "text": "\\\\u0000 is not NUL"}',
        '"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["',
        '{"a": {"k": 1}, "b": {"k": 1}, "t": "12:00:00", "k:": ["::"]}',
        '{"escaped": "\\u003a", "literal": ":", "k": {"k": {"k": 1}}}',
    ],
)
def test_accepted_unchanged(raw: str) -> None:
    import json

    assert loads(raw) == json.loads(raw)


def test_integers_of_19_digits_within_64_bits_skip_the_exact_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A nanosecond timestamp (19 digits) cannot overflow: only orjson reads it."""
    import app.json_input

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the standard parser ran")

    monkeypatch.setattr(app.json_input.json, "loads", refused)
    raw = f'{{"t_sent": 1795000000123456789, "hi": {INT_MAX}, "lo": {INT_MIN + 1}}}'
    assert loads(raw) == {"t_sent": 1795000000123456789, "hi": INT_MAX, "lo": INT_MIN + 1}


def test_many_shallow_containers_are_not_deep() -> None:
    """More brackets than the limit takes the full walk, which must not count siblings."""
    raw = "[" + ",".join(["{}"] * (MAX_DEPTH * 3)) + "]"
    assert len(loads(raw)) == MAX_DEPTH * 3


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (float("nan"), "data"),
        ({"a": [{"b": float("inf")}]}, "data.a[0].b"),
        ({"a": 2**63}, "data.a"),
        ({"a": -(2**63) - 1}, "data.a"),
        ([["x\x00"]], "data[0][0]"),
        ({"k\x00": 1}, "data.k\\u0000"),
    ],
)
def test_check_value_refuses(value: Any, path: str) -> None:
    with pytest.raises(BadInput) as caught:
        check_value(value, path="data")
    assert caught.value.path == path


def test_check_value_depth_is_iterative() -> None:
    value: Any = 1
    for _ in range(100_000):  # far past the interpreter's recursion limit
        value = [value]
    with pytest.raises(BadInput) as caught:
        check_value(value, path="data")
    assert f"at most {MAX_VALUE_DEPTH} levels" in caught.value.message
    deep_enough: Any = 1
    for _ in range(MAX_VALUE_DEPTH):
        deep_enough = {"a": deep_enough}
    check_value(deep_enough, path="data")
