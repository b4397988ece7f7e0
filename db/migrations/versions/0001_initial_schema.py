"""Initial schema: workspaces, channels, events (with commit positions) and tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import CodePointText, JsonValue, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_INDEXES: dict[str, list[str]] = {
    "events_seq_idx": ["seq"],
    "events_created_at_id_idx": ["created_at", "id"],
    "events_type_created_at_idx": ["type", "created_at", "id"],
    "events_channel_id_seq_idx": ["channel_id", "seq"],
    "events_channel_id_created_at_idx": ["channel_id", "created_at", "id"],
    "events_workspace_id_created_at_idx": ["workspace_id", "created_at", "id"],
    "events_subject_id_created_at_idx": ["subject_id", "created_at", "id"],
    "events_user_id_created_at_idx": ["user_id", "created_at", "id"],
    "events_parent_id_idx": ["parent_id"],
    "events_publisher_id_created_at_idx": ["publisher_id", "created_at", "id"],
}


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", CodePointText(), primary_key=True),
        sa.Column("name", CodePointText(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "channels",
        sa.Column("id", CodePointText(), primary_key=True),
        sa.Column("name", CodePointText(), nullable=False),
        sa.Column(
            "workspace_id",
            CodePointText(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("strict_types", sa.Boolean(), nullable=False),
        sa.Column("schemas", JsonValue, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("channels_workspace_id_idx", "channels", ["workspace_id"])
    op.create_table(
        "events",
        sa.Column("id", CodePointText(), primary_key=True),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", CodePointText()),
        sa.Column(
            "channel_id",
            CodePointText(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workspace_id",
            CodePointText(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subject_id", CodePointText()),
        sa.Column("user_id", CodePointText()),
        sa.Column("parent_id", CodePointText()),
        sa.Column("publisher_id", CodePointText()),
        sa.Column("publisher_name", CodePointText()),
        sa.Column("data", JsonValue),
        sa.Column("meta", JsonValue),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    for name, columns in EVENT_INDEXES.items():
        op.create_index(name, "events", columns, unique=name == "events_seq_idx")
    if op.get_bind().dialect.name == "postgresql":
        # Serves data.contains / hasKey / hasAnyKeys / hasAllKeys.
        op.execute("CREATE INDEX events_data_gin_idx ON events USING gin (data)")
    op.create_table(
        "event_positions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO event_positions (id, last_seq) VALUES (1, 0)")
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("name", CodePointText(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("channel_ids", JsonValue, nullable=False),
        sa.Column("workspace_ids", JsonValue, nullable=False),
        sa.Column("publisher_id", CodePointText()),
        sa.Column("publisher_name", CodePointText()),
        sa.Column("expires_at", UtcDateTime()),
        sa.Column("revoked_at", UtcDateTime()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("tokens_secret_hash_idx", "tokens", ["secret_hash"], unique=True)


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("event_positions")
    op.drop_table("events")
    op.drop_table("channels")
    op.drop_table("workspaces")
