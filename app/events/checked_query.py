"""An ``EventQuery`` checked once: its filter limits, its normalised order and the binding
its cursors carry.

All three depend on the query alone, and walking the filter (``check_limits``, the
canonical JSON hashed by ``binding``) costs a few tens of microseconds for a nested
filter. The GraphQL fast path hands back the same ``EventQuery`` object for a repeated
request (its argument cache), so they are kept per query object: by identity, not
equality (``True == 1`` in Python, but the filters differ), and only while the object
lives (a weak reference drops the entry when it is freed, before its ``id`` can be
reused), so queries built per request by the general path are not held. A query that
fails its check is not kept.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING

from app.errors import BadInput
from db.query.ast import OrderKey, normalize_order
from db.query.keyset import binding
from db.query.limits import FilterLimitError, check_limits

if TYPE_CHECKING:
    from app.events.read import EventQuery

MAX_IDS = 100
Checked = tuple[tuple[OrderKey, ...], str]
"""The normalised order and the cursor binding of a query."""


def check_query(query: EventQuery) -> Checked:
    """Raises ``BadInput`` for a filter over the limits or too many ids."""
    try:
        check_limits(query.filter)
    except FilterLimitError as exc:
        raise BadInput(exc.message, path=exc.path) from exc
    if query.ids is not None and len(query.ids) > MAX_IDS:
        raise BadInput(f"at most {MAX_IDS} ids", path="ids")
    order = normalize_order(query.order)
    return order, binding(order, query.filter, query.ids)


class CheckedQueries:
    """LRU of live query object → ``check_query(query)``."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[weakref.ref[EventQuery], Checked]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, query: EventQuery) -> Checked:
        key = id(query)
        item = self._items.get(key)
        if item is not None and item[0]() is query:
            self._items.move_to_end(key)
            return item[1]
        checked = check_query(query)
        self._items[key] = (weakref.ref(query, lambda _: self._forget(key)), checked)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return checked

    def _forget(self, key: int) -> None:
        self._items.pop(key, None)


CHECKED = CheckedQueries()
