"""The deployment table: one row with a random id naming this database (the Redis bus's
channel, docs/realtime.md). Created empty; the first process that needs the id writes it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("deployment_id", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment")
