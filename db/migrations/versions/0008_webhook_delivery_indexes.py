"""Webhook deliveries: the ``(status, next_attempt_at)`` index goes, a partial index of
finished deliveries by queue time replaces it for pruning the log.

Every query of pending deliveries names its webhook and is served by
``(webhook_id, status, created_at, event_seq)``; a queued delivery (``pending``) now adds
two index entries (key and webhook) instead of three. The finished index gets its entry
when the delivery's outcome is written, an update that rewrites every index anyway.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINISHED = sa.text("status <> 'pending'")


def upgrade() -> None:
    op.drop_index("webhook_deliveries_due_idx", "webhook_deliveries")
    op.create_index(
        "webhook_deliveries_finished_idx",
        "webhook_deliveries",
        ["created_at"],
        postgresql_where=FINISHED,
        sqlite_where=FINISHED,
    )


def downgrade() -> None:
    op.drop_index("webhook_deliveries_finished_idx", "webhook_deliveries")
    op.create_index(
        "webhook_deliveries_due_idx", "webhook_deliveries", ["status", "next_attempt_at"]
    )
