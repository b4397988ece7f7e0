"""Limits on filter size, checked while inputs convert to the query AST (SPEC §5 Limits)."""

from __future__ import annotations

from typing import TypeVar

from strawberry import Some

from app.errors import BadInput

MAX_DEPTH = 10
MAX_LEAVES = 200
MAX_IN_VALUES = 500
MAX_IDS = 100

T = TypeVar("T")


class FilterBudget:
    """Counts leaves across one whole filter; one budget per ``to_query()`` call."""

    __slots__ = ("leaves",)

    def __init__(self) -> None:
        self.leaves = 0

    def leaf(self, path: str) -> None:
        """Account for one operator on one field (an ``in`` list is one leaf)."""
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise BadInput(f"{path}: a filter may hold at most {MAX_LEAVES} conditions", path=path)


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
