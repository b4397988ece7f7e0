"""Which subscribers the fan-out offers an event: an index by channel and type.

A subscriber whose filter requires a channel (``channelId: {eq | in}``) or a type
(``type: {eq | in}``) at its top level (alone or as a conjunct of an ``AND``) is offered only
events of those channels and types; every other subscriber is offered every event. The
index is immutable: the hub builds a new one when its subscribers have changed, at the
moment it takes a batch, so the subscribers offered a batch are those registered when its
position moved (docs/realtime.md, "Why delivery is gapless").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, product
from typing import TYPE_CHECKING

from app.events.read import EventRow
from db.query.ast import And, Compare, Filter

if TYPE_CHECKING:
    from app.realtime.subscriber import FilterKey, Subscriber


def required_values(f: Filter, field: str) -> frozenset[str] | None:
    """The values ``field`` must have for an event to match ``f``, when a top-level
    conjunct says so (``field: {eq | in}`` with text values); None when any value may."""
    if isinstance(f, Compare) and f.field == field:
        if f.op == "eq" and isinstance(f.value, str):
            return frozenset({f.value})
        if f.op == "in" and isinstance(f.value, tuple):
            return frozenset(v for v in f.value if isinstance(v, str))
    if isinstance(f, And):
        found = [v for v in (required_values(item, field) for item in f.items) if v is not None]
        if found:
            return frozenset.intersection(*found)
    return None


class Routes:
    """The subscribers to offer each event, each at most once per event."""

    __slots__ = ("_anywhere", "_by_channel", "_by_channel_type", "_by_type", "relation_filters")

    def __init__(self, subscribers: Iterable[Subscriber]) -> None:
        self.relation_filters: dict[FilterKey, Subscriber] = {}
        """One subscriber per distinct filter with relation tests (checked in SQL)."""
        self._anywhere: list[Subscriber] = []
        self._by_channel: dict[str, list[Subscriber]] = {}
        self._by_type: dict[str, list[Subscriber]] = {}
        self._by_channel_type: dict[tuple[str, str], list[Subscriber]] = {}
        for subscriber in subscribers:
            if subscriber.key is not None:
                self.relation_filters.setdefault(subscriber.key, subscriber)
            channels, types = subscriber.channels, subscriber.types
            if channels is None and types is None:
                self._anywhere.append(subscriber)
            elif types is None:
                for channel in channels or ():
                    self._by_channel.setdefault(channel, []).append(subscriber)
            elif channels is None:
                for type_ in types:
                    self._by_type.setdefault(type_, []).append(subscriber)
            else:
                for pair in product(channels, types):
                    self._by_channel_type.setdefault(pair, []).append(subscriber)

    def offered(self, row: EventRow) -> Iterator[Subscriber]:
        channel, type_ = row["channel_id"], row["type"]
        if type_ is None:  # no subscriber that requires a type matches it
            return chain(self._by_channel.get(channel, ()), self._anywhere)
        return chain(
            self._by_channel_type.get((channel, type_), ()),
            self._by_channel.get(channel, ()),
            self._by_type.get(type_, ()),
            self._anywhere,
        )
