"""Limits on filter size, checked while inputs convert to the query AST (SPEC §5 Limits)."""

from __future__ import annotations

from typing import TypeVar

from strawberry import Some

from app.errors import BadInput

MAX_DEPTH = 10
MAX_LEAVES = 200
MAX_IN_VALUES = 500
MAX_LIST_VALUES = 5000
"""All list operands of one filter together: each value is one bound parameter, and a
statement holds at most 32,767 of them (asyncpg; SQLite 32,766)."""
MAX_IDS = 100

T = TypeVar("T")


class FilterBudget:
    """Counts leaves across one whole filter; one budget per ``to_query()`` call."""

    __slots__ = ("leaves", "list_values")

    def __init__(self) -> None:
        self.leaves = 0
        self.list_values = 0

    def leaf(self, path: str) -> None:
        """Account for one operator on one field (an ``in`` list is one leaf)."""
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise BadInput(f"{path}: a filter may hold at most {MAX_LEAVES} conditions", path=path)

    def values(self, values: list[T], path: str) -> tuple[T, ...]:
        """One list operand (``in``, ``hasAnyKeys``...), within its own limit and the
        filter's."""
        checked = check_list(values, path)
        self.list_values += len(checked)
        if self.list_values > MAX_LIST_VALUES:
            raise BadInput(
                f"{path}: the lists of a filter may hold at most {MAX_LIST_VALUES} values together",
                path=path,
            )
        return checked


def check_depth(depth: int, path: str) -> None:
    """``depth`` counts filter objects from the root (the root is level 1)."""
    if depth > MAX_DEPTH:
        raise BadInput(f"{path}: filters may nest at most {MAX_DEPTH} levels deep", path=path)


def present(value: Some[T | None], path: str) -> T:
    """The value of an explicitly given field; an explicit ``null`` is a client error."""
    if value.value is None:
        raise BadInput(
            f"{path}: null is not allowed here; omit the field for no constraint"
            " (use isNull to test for NULL)",
            path=path,
        )
    return value.value


def check_list(values: list[T], path: str, limit: int = MAX_IN_VALUES) -> tuple[T, ...]:
    if len(values) > limit:
        raise BadInput(f"{path}: at most {limit} values are allowed", path=path)
    return tuple(values)
