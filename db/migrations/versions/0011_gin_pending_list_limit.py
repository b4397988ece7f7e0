"""The GIN indexes of ``events`` move their pending lists in small steps (PostgreSQL).

A GIN index with ``fastupdate`` (the default) appends an insert's entries to a pending
list; the insert that finds the list over ``gin_pending_list_limit`` (4 MB by default)
moves all of it into the index, inside its own statement. A publish statement holds the
position lock until it commits, so that one publish stalled every publish and every
subscription for 250 ms, about once a minute at 200 events/s. At the smallest limit
(64 kB) the same work is done in steps of a few milliseconds, for the same CPU per
publish (docs/indexes.md, docs/benchmarks.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GIN_INDEXES = (
    "events_data_gin_idx",
    "events_meta_gin_idx",
    "events_type_trgm_idx",
    "events_type_lower_trgm_idx",
)
PENDING_LIST_KB = 64


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in GIN_INDEXES:
        op.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in GIN_INDEXES:
        op.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
