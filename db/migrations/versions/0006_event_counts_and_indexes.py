"""Per-channel event counters, and the index set of ``events`` trimmed to what is used.

``event_counts`` holds one row per (channel, workspace) with the number of stored events,
backfilled here and kept by triggers on ``events`` in the statement that inserts or
deletes (docs/counters.md): per statement on PostgreSQL, per row on SQLite. Indexes (docs/indexes.md): the three ``(column, created_at, id)`` indexes
of subject, user and publisher go (an equality filter on them is served by the
``(column, id)`` index); PostgreSQL gets ``(column NULLS FIRST, id)`` for every nullable
sortable column (the non-default placements) and trigram indexes on ``type`` for
``like`` / ``contains`` / ``endsWith`` and ``ilike``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import CodePointText

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "events_subject_id_created_at_idx": ["subject_id", "created_at", "id"],
    "events_user_id_created_at_idx": ["user_id", "created_at", "id"],
    "events_publisher_id_created_at_idx": ["publisher_id", "created_at", "id"],
}
NULLABLE_ORDERABLE = ("type", "subject_id", "user_id", "parent_id", "publisher_id")
# The expression must be exactly what ``dialect_sql.unicode_lower`` renders.
LOWER_TYPE = 'lower((type) COLLATE "und-x-icu")'

# Counter rows are locked in key order (one lock order for every writer, no deadlock) and
# after the event_positions lock when the statement takes one. A delete only decrements:
# deleting a channel or workspace cascades to its events and its counter row in any order.
PG_TRIGGERS = (
    """
CREATE FUNCTION event_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (channel_id, workspace_id, n)
    SELECT channel_id, workspace_id, count(*) FROM inserted
    GROUP BY channel_id, workspace_id ORDER BY channel_id, workspace_id
    ON CONFLICT (channel_id, workspace_id) DO UPDATE SET n = event_counts.n + excluded.n;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION event_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM event_counts c
    WHERE (c.channel_id, c.workspace_id) IN (SELECT channel_id, workspace_id FROM deleted)
    ORDER BY c.channel_id, c.workspace_id FOR UPDATE;
    UPDATE event_counts c SET n = c.n - d.n
    FROM (
        SELECT channel_id, workspace_id, count(*) AS n FROM deleted
        GROUP BY channel_id, workspace_id
    ) d
    WHERE c.channel_id = d.channel_id AND c.workspace_id = d.workspace_id;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER events_counted_insert AFTER INSERT ON events"
    " REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT"
    " EXECUTE FUNCTION event_counts_inserted()",
    "CREATE TRIGGER events_counted_delete AFTER DELETE ON events"
    " REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT"
    " EXECUTE FUNCTION event_counts_deleted()",
)
# SQLite has one writer at a time and row triggers only.
SQLITE_TRIGGERS = (
    """
CREATE TRIGGER events_counted_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (channel_id, workspace_id, n)
    VALUES (NEW.channel_id, NEW.workspace_id, 1)
    ON CONFLICT (channel_id, workspace_id) DO UPDATE SET n = n + 1;
END""",
    """
CREATE TRIGGER events_counted_delete AFTER DELETE ON events BEGIN
    UPDATE event_counts SET n = n - 1
    WHERE channel_id = OLD.channel_id AND workspace_id = OLD.workspace_id;
END""",
)


def upgrade() -> None:
    op.create_table(
        "event_counts",
        sa.Column(
            "channel_id",
            CodePointText(),
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "workspace_id",
            CodePointText(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:  # no writer may slip between the backfill and the triggers
        op.execute("LOCK TABLE events IN SHARE MODE")
    op.execute(
        "INSERT INTO event_counts (channel_id, workspace_id, n)"
        " SELECT channel_id, workspace_id, count(*) FROM events"
        " GROUP BY channel_id, workspace_id"
    )
    for statement in PG_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    for name in DROPPED:
        op.drop_index(name, "events")
    if not postgresql:
        return  # SQLite's (column, id) indexes already hold NULLs first.
    for column in NULLABLE_ORDERABLE:
        op.execute(
            f"CREATE INDEX events_{column}_nulls_first_id_idx"
            f" ON events ({column} NULLS FIRST, id)"
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX events_type_trgm_idx ON events USING gin (type gin_trgm_ops)")
    op.execute(
        f"CREATE INDEX events_type_lower_trgm_idx ON events USING gin (({LOWER_TYPE}) gin_trgm_ops)"
    )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP INDEX events_type_lower_trgm_idx")
        op.execute("DROP INDEX events_type_trgm_idx")
        for column in NULLABLE_ORDERABLE:
            op.execute(f"DROP INDEX events_{column}_nulls_first_id_idx")
    for name, columns in DROPPED.items():
        op.create_index(name, "events", columns)
    op.execute("DROP TRIGGER events_counted_delete ON events" if pg else "DROP TRIGGER events_counted_delete")
    op.execute("DROP TRIGGER events_counted_insert ON events" if pg else "DROP TRIGGER events_counted_insert")
    if pg:
        op.execute("DROP FUNCTION event_counts_deleted()")
        op.execute("DROP FUNCTION event_counts_inserted()")
    op.drop_table("event_counts")
