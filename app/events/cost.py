"""The request cost budget: page size times filter cost, summed over every connection a request
reads, refused before any statement runs (REST ``/api/events`` and export, every GraphQL
operation after fragment expansion).

A filtered read at the top level (``events``, ``/api/events``) is charged for at least
``MIN_FILTERED_ROWS`` rows: when few rows match it scans far more than its page — a
condition that matches nothing scans the whole table even for ``first: 1`` — so a page
size of 1 must not make 25 aliases of 199 JSON conditions cheap.

The weights follow what a condition costs per row scanned: an indexed comparison is cheap,
a pattern (``like``, ``ilike``, ``contains``...) reads and folds a string, a JSON operator
parses the document (a Python function per row on SQLite), and a relation is a subquery.
"""

from __future__ import annotations

from app.errors import BadInput
from db.query.ast import And, Compare, Filter, JsonDoc, JsonPath, Not, Or, Related

BASE_COST = 1  # reading a row with no condition
COMPARE_COST = 1
PATTERN_COST = 5
JSON_COST = 10
RELATION_COST = 5
IN_VALUES_PER_UNIT = 100  # an `in` list costs one more unit per this many values
MIN_FILTERED_ROWS = 20

PATTERN_OPS = frozenset({"like", "ilike", "startsWith", "endsWith", "contains"})


def _conditions_cost(node: Filter) -> int:
    if isinstance(node, And | Or):
        return sum(_conditions_cost(item) for item in node.items)
    if isinstance(node, Not):
        return _conditions_cost(node.item)
    if isinstance(node, Compare):
        if node.op in PATTERN_OPS:
            return PATTERN_COST
        if isinstance(node.value, tuple):
            return COMPARE_COST + len(node.value) // IN_VALUES_PER_UNIT
        return COMPARE_COST
    if isinstance(node, JsonDoc | JsonPath):
        return JSON_COST
    assert isinstance(node, Related)
    return RELATION_COST + _conditions_cost(node.filter)


def filter_cost(node: Filter) -> int:
    """The cost of reading one row under ``node`` (at least ``BASE_COST``)."""
    return BASE_COST + _conditions_cost(node)


def top_level_cost(page: int, node: Filter) -> int:
    """The cost of one top-level page of ``page`` rows under ``node``."""
    return charged_rows(page, filter_cost(node)) * filter_cost(node)


def charged_rows(page: int, row_cost: int) -> int:
    """The rows a top-level read is charged for: its page, at least ``MIN_FILTERED_ROWS``
    when a condition filters it."""
    return page if row_cost <= BASE_COST else max(page, MIN_FILTERED_ROWS)


def check_cost(cost: int, budget: int, *, path: str | None = None) -> None:
    """Refuse a request whose estimated ``cost`` is over ``budget`` (``BadInput``)."""
    if cost > budget:
        raise BadInput(
            f"the request's estimated cost {cost} exceeds the budget of {budget}"
            " (page size times filter cost, summed over every connection read); ask for"
            " smaller pages or fewer, cheaper conditions",
            path=path,
        )
