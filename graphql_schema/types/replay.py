"""The outcome of ``replayEvents``."""

from __future__ import annotations

import strawberry


@strawberry.type(description="An event that could not be replayed.")
class ReplayError:
    event_id: strawberry.ID
    error: str


@strawberry.type(description="How many events were re-delivered, and which failed.")
class ReplayResult:
    replayed: int
    errors: list[ReplayError]
