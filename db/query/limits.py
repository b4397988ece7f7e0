"""Limits of filters (SPEC §5): depth <= 10, <= 200 leaves, lists <= 500 values, and no
NUL characters (PostgreSQL cannot hold them, so they could never match the same on both)."""

from __future__ import annotations

from db.query.ast import And, Filter, Not, Or, Related
from db.types import contains_nul

MAX_DEPTH = 10
MAX_LEAVES = 200
MAX_LIST = 500
_LIST_OPS = frozenset({"in", "notIn", "hasAnyKeys", "hasAllKeys"})


class FilterLimitError(ValueError):
    """A filter over a size limit; ``path`` names where (relative to the given base)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def check_limits(f: Filter, *, path: str = "filter") -> None:
    """Raise ``FilterLimitError`` when ``f`` exceeds a limit.

    Depth counts nested ``And``/``Or``/``Not``/``Related`` nodes (one per logical or
    relation filter object when the input conversion does not wrap single predicates);
    every ``Compare``/``JsonDoc``/``JsonPath`` is one leaf, whatever the length of its list.
    """
    leaves = 0

    def visit(node: Filter, depth: int, where: str) -> None:
        nonlocal leaves
        if isinstance(node, And | Or | Not | Related):
            depth += 1
            if depth > MAX_DEPTH:
                raise FilterLimitError(f"filter nesting is deeper than {MAX_DEPTH}", where)
        if isinstance(node, And | Or):
            name = "AND" if isinstance(node, And) else "OR"
            for i, item in enumerate(node.items):
                visit(item, depth, f"{where}.{name}[{i}]")
        elif isinstance(node, Not):
            visit(node.item, depth, f"{where}.NOT")
        elif isinstance(node, Related):
            visit(node.filter, depth, f"{where}.{node.relation}")
        else:
            leaves += 1
            if leaves > MAX_LEAVES:
                raise FilterLimitError(f"filter has more than {MAX_LEAVES} conditions", where)
            value = node.value
            if contains_nul(value):
                raise FilterLimitError("text must not contain NUL (\\u0000) characters", where)
            if node.op in _LIST_OPS and isinstance(value, list | tuple) and len(value) > MAX_LIST:
                raise FilterLimitError(f"lists hold at most {MAX_LIST} values", where)

    visit(f, 0, path)
