"""An ``EventQuery`` is checked once per object: the same order and cursor binding as a
fresh check, never another query's (even an equal one), failures never kept, bounded."""

from __future__ import annotations

import gc

import pytest

from app.errors import BadInput
from app.events.checked_query import CheckedQueries, check_query
from app.events.read import EventQuery
from db.query.ast import And, Compare, Filter, JsonPath, Not, Or, OrderKey, Related
from db.query.limits import MAX_DEPTH

Q3_LIKE = And(
    (
        Or(
            (
                Compare("type", "in", ("a.created", "b.created")),
                And((Compare("workspace_id", "eq", "ws_1"), Not(Compare("user_id", "eq", "u")))),
            )
        ),
        Related("parent", Compare("type", "eq", "agent.created")),
    )
)
ORDER = (OrderKey("created_at", "desc", "last"), OrderKey("id", "asc", "last"))


def test_a_query_object_is_checked_once() -> None:
    cache = CheckedQueries()
    query = EventQuery(filter=Q3_LIKE, order=ORDER)
    first = cache.get(query)
    assert first == check_query(query)
    assert cache.get(query) is first
    again = EventQuery(filter=Q3_LIKE, order=ORDER)
    assert cache.get(again) == first
    assert cache.get(again) is not first  # another object is checked on its own


def test_equal_queries_keep_their_own_binding() -> None:
    """``True == 1``: the queries compare equal, their cursors must not be interchangeable."""
    cache = CheckedQueries()
    one = EventQuery(filter=JsonPath("data", ("v",), "eq", 1))
    true = EventQuery(filter=JsonPath("data", ("v",), "eq", True))
    assert one == true
    assert cache.get(one) == check_query(one)
    assert cache.get(true) == check_query(true)
    assert cache.get(one)[1] != cache.get(true)[1]


def test_failures_are_not_kept_and_the_cache_is_bounded() -> None:
    cache = CheckedQueries(size=2)
    deep: Filter = Compare("type", "eq", "x")
    for _ in range(MAX_DEPTH + 1):
        deep = Not(deep)
    too_deep = EventQuery(filter=deep)
    for _ in range(2):
        with pytest.raises(BadInput):
            cache.get(too_deep)
    queries = [EventQuery(filter=Compare("type", "eq", str(n))) for n in range(3)]
    first, second = cache.get(queries[0]), cache.get(queries[1])
    assert cache.get(queries[0]) is first  # used: the newest again
    cache.get(queries[2])  # evicts queries[1], the least recently used
    assert len(cache) == 2
    assert cache.get(queries[0]) is first
    assert cache.get(queries[1]) is not second


def test_a_freed_query_is_forgotten() -> None:
    """Queries built per request (the general path) are not held by the cache."""
    cache = CheckedQueries()
    kept = EventQuery(filter=Q3_LIKE)
    cache.get(kept)
    cache.get(EventQuery(filter=Q3_LIKE))  # freed as soon as it is checked
    gc.collect()
    assert len(cache) == 1
    del kept
    gc.collect()
    assert len(cache) == 0
