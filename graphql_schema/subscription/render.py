"""Subscription events rendered once per event and selection set, not once per subscriber.

A subscription selecting only the ``Event`` fields the query fast path renders from a row
(``fast_path/fields.py``: attribute-resolved scalars read off the Strawberry types) plus the
flags the subscription sets (``replayed``) gets a ``SelectionPlan``; each event is then
rendered and encoded once for that plan and shared, as a ``Rendered`` root value, by every
subscriber with the same selection. Fragments, directives, relations, arguments, or any
field that gains a resolver or a permission return ``None``: the general executor serves
those, per subscriber. ``tests/graphql/test_subscription_render.py`` holds the bytes equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from graphql import FieldNode

from app.events.read import EventRow, NodeField
from graphql_schema.fast_path.execute import render_column
from graphql_schema.fast_path.fields import FLAGS, SCALARS
from graphql_schema.subscription.frames import Rendered

MAX_ENTRIES = 1024
MAX_BYTES = 4 * 2**20
"""An entry serves the subscribers an event is fanned out to, at about the same time; a
miss (a subscriber far behind) only renders again. Bounded by bytes too: events are up to
``max_event_bytes`` each, and a big cache would hold them long after delivery."""


@dataclass(frozen=True, slots=True)
class Flag:
    alias: str


@dataclass(frozen=True, slots=True)
class SelectionPlan:
    root_alias: str
    fields: tuple[NodeField | Flag, ...]
    key: str  # the plan as text: a cheap, stable cache key


def _field(node: FieldNode) -> NodeField | Flag | None:
    name = node.name.value
    alias = node.alias.value if node.alias else name
    if node.directives or node.arguments or node.selection_set is not None:
        return None
    if name == "__typename":
        return NodeField(alias, "Event", "typename")
    if name in SCALARS["Event"]:
        key, kind = SCALARS["Event"][name]
        return NodeField(alias, key, kind)
    if FLAGS.get(name) == "replayed":  # the one flag the stream sets
        return Flag(alias)
    return None


def compile_selection(field_nodes: list[FieldNode]) -> SelectionPlan | None:
    """The plan of the subscription field ``events`` as selected, or None (general path)."""
    if len(field_nodes) != 1:
        return None
    root = field_nodes[0]
    if root.directives or root.selection_set is None:
        return None
    fields: list[NodeField | Flag] = []
    for selection in root.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # fragments
        field = _field(selection)
        if field is None:
            return None
        fields.append(field)
    root_alias = root.alias.value if root.alias else root.name.value
    return SelectionPlan(root_alias, tuple(fields), repr((root_alias, fields)))


class RenderCache:
    """Encoded events by (plan, event id, replayed); the oldest entries go first."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: dict[tuple[str, str, bool], tuple[Rendered, int]] = {}

    def get(self, plan: SelectionPlan, row: EventRow, replayed: bool) -> Rendered:
        key = (plan.key, row["id"], replayed)
        entry = self._entries.get(key)
        if entry is not None:
            return entry[0]
        # Text, exactly sized (orjson's own bytes keep its worst-case buffer allocated):
        # frames are text, and this is kept while subscribers are served.
        text = orjson.dumps(render(plan, row, replayed)).decode()
        rendered = Rendered(text)
        self._entries[key] = (rendered, len(text))
        self._bytes += len(text)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, size = self._entries.pop(next(iter(self._entries)))
            self._bytes -= size
        return rendered


def render(plan: SelectionPlan, row: EventRow, replayed: bool) -> dict[str, object]:
    """The result's ``data`` for ``row``, as the general path would produce it."""
    node = {
        field.alias: replayed if isinstance(field, Flag) else render_column(row, field)
        for field in plan.fields
    }
    return {plan.root_alias: node}


CACHE = RenderCache()
"""One per process: events are immutable, so an entry never goes stale."""
