"""Per-(channel, workspace) event counters: ``totalCount`` of a read scope without a scan.

Triggers on ``events`` (migration 0006) change the counter rows of the channels a statement
inserted into or deleted from, in that statement, so every snapshot sees counters and
events agree, whoever writes (docs/counters.md).
"""

from __future__ import annotations

from sqlalchemy import false, func, or_, select

from db.database import ReadConn
from db.query.ast import And, Compare, Filter
from db.query.scope import ReadScope
from db.tables import channels_table, counts_table


def counted(f: Filter) -> dict[str, str] | None:
    """``{"channel_id": ..., "workspace_id": ...}`` (either optional) when ``f`` only asks
    for equality on those two fields, the only filters counters can answer; else None."""
    items = f.items if isinstance(f, And) else (f,)
    found: dict[str, str] = {}
    for item in items:
        if isinstance(item, And):
            nested = counted(item)
            if nested is None:
                return None
            pairs = list(nested.items())
        elif (
            isinstance(item, Compare)
            and item.field in ("channel_id", "workspace_id")
            and item.op == "eq"
            and isinstance(item.value, str)
        ):
            pairs = [(item.field, item.value)]
        else:
            return None
        for field, value in pairs:
            if found.setdefault(field, value) != value:
                return None  # contradictory: rare, let COUNT(*) answer 0
    return found


async def total(
    conn: ReadConn,
    *,
    scope: ReadScope,
    channel_id: str | None = None,
    workspace_id: str | None = None,
) -> int:
    """Events readable by ``scope`` (optionally in one channel / workspace), from counters.

    A scope is public channels plus its channels plus its workspaces; each counter row is
    summed once however many of those clauses it satisfies.
    """
    c = counts_table
    statement = select(func.coalesce(func.sum(c.c.n), 0))
    if not scope.admin:
        public = select(channels_table.c.id).where(channels_table.c.private == false())
        clauses = [c.c.channel_id.in_(public.scalar_subquery())]
        if scope.channel_ids:
            clauses.append(c.c.channel_id.in_(sorted(scope.channel_ids)))
        if scope.workspace_ids:
            clauses.append(c.c.workspace_id.in_(sorted(scope.workspace_ids)))
        statement = statement.where(or_(*clauses))
    if channel_id is not None:
        statement = statement.where(c.c.channel_id == channel_id)
    if workspace_id is not None:
        statement = statement.where(c.c.workspace_id == workspace_id)
    return int((await conn.execute(statement)).scalar_one())
