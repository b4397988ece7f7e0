"""Per-request DataLoaders, built with the caller's read scope so every batch is scoped."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from app.channels import read as channel_read
from app.events import read as event_read
from app.events.read import EventPage
from app.workspaces import read as workspace_read
from db.database import Database
from db.query.scope import ReadScope
from graphql_schema.loaders.by_id import Row, by_id_loader
from graphql_schema.loaders.related_events import (
    RelatedKey,
    related_counts_loader,
    related_pages_loader,
)


@dataclass(slots=True)
class Loaders:
    event_by_id: DataLoader[str, Row | None]
    channel_by_id: DataLoader[str, Row | None]
    workspace_by_id: DataLoader[str, Row | None]
    related_pages: DataLoader[RelatedKey, EventPage]
    related_counts: DataLoader[RelatedKey, int]


def build_loaders(*, db: Database, scope: ReadScope, max_page_size: int) -> Loaders:
    """Fresh loaders for one request: their caches never outlive it."""
    return Loaders(
        event_by_id=by_id_loader(db, scope, event_read.get_events),
        channel_by_id=by_id_loader(db, scope, channel_read.get_channels),
        workspace_by_id=by_id_loader(db, scope, workspace_read.get_workspaces),
        related_pages=related_pages_loader(db, scope, max_page_size),
        related_counts=related_counts_loader(db, scope),
    )


__all__ = ["Loaders", "RelatedKey", "build_loaders"]
