"""Who can read what: the one read predicate, applied to every read of events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, FromClause, false, or_, select, true

from db.tables import channels_table, channels_view, events_table, workspaces_table


@dataclass(frozen=True, slots=True)
class ReadScope:
    """Admin reads everything; others read public channels plus their channels/workspaces."""

    admin: bool = False
    channel_ids: frozenset[str] = frozenset()
    workspace_ids: frozenset[str] = frozenset()

    def can_read(self, *, channel_id: str, workspace_id: str, channel_private: bool) -> bool:
        """The same rule in memory (subscriptions, webhooks)."""
        return (
            self.admin
            or not channel_private
            or channel_id in self.channel_ids
            or workspace_id in self.workspace_ids
        )


ADMIN_SCOPE = ReadScope(admin=True)
ANONYMOUS_SCOPE = ReadScope()


def readable(scope: ReadScope, events: FromClause = events_table) -> ColumnElement[bool]:
    """Predicate over ``events`` (the table or an alias of it) selecting what ``scope`` reads."""
    if scope.admin:
        return true()
    public = select(channels_table.c.id).where(channels_table.c.private == false())
    clauses: list[ColumnElement[bool]] = [events.c.channel_id.in_(public.scalar_subquery())]
    if scope.channel_ids:
        clauses.append(events.c.channel_id.in_(sorted(scope.channel_ids)))
    if scope.workspace_ids:
        clauses.append(events.c.workspace_id.in_(sorted(scope.workspace_ids)))
    return or_(*clauses)


def channel_readable(
    scope: ReadScope, channels: FromClause = channels_table
) -> ColumnElement[bool]:
    """Channels ``scope`` can see: public ones plus its channels and workspaces' channels."""
    if scope.admin:
        return true()
    clauses: list[ColumnElement[bool]] = [channels.c.private == false()]
    if scope.channel_ids:
        clauses.append(channels.c.id.in_(sorted(scope.channel_ids)))
    if scope.workspace_ids:
        clauses.append(channels.c.workspace_id.in_(sorted(scope.workspace_ids)))
    return or_(*clauses)


def workspace_readable(
    scope: ReadScope, workspaces: FromClause = workspaces_table
) -> ColumnElement[bool]:
    """Workspaces in ``scope`` plus those holding a channel ``scope`` can see."""
    if scope.admin:
        return true()
    channels = channels_view.alias("readable_channels")
    has_channel = (
        select(channels.c.id)
        .where(channels.c.workspace_id == workspaces.c.id, channel_readable(scope, channels))
        .exists()
    )
    if not scope.workspace_ids:
        return has_channel
    return or_(workspaces.c.id.in_(sorted(scope.workspace_ids)), has_channel)
