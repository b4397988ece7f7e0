"""Relay ``PageInfo``, shared by every connection."""

from __future__ import annotations

from typing import Protocol

import strawberry


class _Page(Protocol):
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None: ...
    @property
    def end_cursor(self) -> str | None: ...


@strawberry.type(description="Where a page sits; both flags are exact in both directions.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def from_page(cls, page: _Page) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        )
