"""Indexes that serve ordering by every sortable column, and JSON operators on meta.

``orderBy: [{userId: asc}]`` sorts by ``(user_id, id)`` (``id`` is the appended
tie-breaker); the ``(column, created_at, id)`` indexes of 0001 serve filters ordered by time
but not that order, so each sortable column gets a ``(column, id)`` index. Ascending scans
give ``asc`` (nulls last) and backward scans ``desc`` (nulls first), the default placements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERABLE = (
    "type",
    "channel_id",
    "workspace_id",
    "subject_id",
    "user_id",
    "parent_id",
    "publisher_id",
)


def upgrade() -> None:
    # (parent_id, id) serves every lookup the lone (parent_id) index did.
    op.drop_index("events_parent_id_idx", "events")
    for column in ORDERABLE:
        op.create_index(f"events_{column}_id_idx", "events", [column, "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX events_meta_gin_idx ON events USING gin (meta)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX events_meta_gin_idx")
    for column in ORDERABLE:
        op.drop_index(f"events_{column}_id_idx", "events")
    op.create_index("events_parent_id_idx", "events", ["parent_id"])
