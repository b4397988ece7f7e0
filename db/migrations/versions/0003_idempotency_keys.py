"""Idempotency keys of publishes (``Idempotency-Key`` / ``idempotencyKey``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import CodePointText, JsonValue, UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", CodePointText(), primary_key=True),
        sa.Column("key", CodePointText(), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("event_ids", JsonValue, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("idempotency_keys_created_at_idx", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("idempotency_keys_created_at_idx", "idempotency_keys")
    op.drop_table("idempotency_keys")
