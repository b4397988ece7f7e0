"""Webhook delivery ranges: deliveries of one webhook from one outbox row kept as one row
(the skipped events of a paused webhook, or those waiting for room in its window of
delivery rows) instead of one delivery row per event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_ranges",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("webhook_id", sa.String(26), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("id_head", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
    )
    op.create_index("webhook_ranges_webhook_idx", "webhook_ranges", ["webhook_id", "created_at"])
    op.create_index(
        "webhook_ranges_status_idx", "webhook_ranges", ["webhook_id", "status", "id"]
    )
    op.create_index("webhook_ranges_created_idx", "webhook_ranges", ["created_at"])


def downgrade() -> None:
    op.drop_table("webhook_ranges")
