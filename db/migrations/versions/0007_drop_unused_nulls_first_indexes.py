"""Drop the NULLS FIRST twins no supported hot shape needs (docs/indexes.md).

0006 gave every nullable sortable column a ``(column NULLS FIRST, id)`` index on
PostgreSQL. Only ``user_id``'s is required (issue 12: ``userId: asc_nulls_first`` is
index-served); the opposite placements on ``type``, ``subject_id``, ``parent_id`` and
``publisher_id`` are a top-N sort instead, and every publish stops writing four indexes.
SQLite never had them (its btree indexes hold NULLs first), so this is PostgreSQL-only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = ("type", "subject_id", "parent_id", "publisher_id")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in DROPPED:
        op.execute(f"DROP INDEX events_{column}_nulls_first_id_idx")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in DROPPED:
        op.execute(
            f"CREATE INDEX events_{column}_nulls_first_id_idx ON events ({column} NULLS FIRST, id)"
        )
