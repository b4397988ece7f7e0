"""Webhooks: one outbox row per publishing transaction, deliveries that reference their
event instead of carrying a copy of its body, and an index of leased deliveries.

The body is built when the delivery is sent, from the event row (by ``event_id``) and the
delivery's ``kind`` and ``created_at``: the same bytes as the stored copy it replaces.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LEASED = sa.text("lease_until IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("body")
    # Few rows are leased at any time: counting a webhook's in-flight deliveries (the
    # concurrency cap) reads only these, and staging (lease_until NULL) never touches it.
    op.create_index(
        "webhook_deliveries_leased_idx",
        "webhook_deliveries",
        ["webhook_id", "lease_until"],
        postgresql_where=LEASED,
        sqlite_where=LEASED,
    )


def downgrade() -> None:
    op.drop_index("webhook_deliveries_leased_idx", "webhook_deliveries")
    op.drop_table("webhook_outbox")
    # Bodies are not rebuilt: a downgraded database has an empty body on old deliveries.
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("body", sa.Text(), nullable=False, server_default=""))
