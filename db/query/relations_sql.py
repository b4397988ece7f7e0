"""Relation filters as correlated EXISTS subqueries over indexed keys.

Every subquery over events applies ``readable(scope)``: a principal learns nothing about
rows it cannot read through ``parent``, ``children`` or ``events`` filters. Channel and
workspace rows reached from a readable event (or channel) are readable by construction.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, and_, literal, not_, select

from db.query.ast import Entity, Related
from db.query.scope import ReadScope, readable
from db.tables import channels_view as channels_table
from db.tables import events_view as events_table
from db.tables import workspaces_view as workspaces_table

_TARGETS: dict[tuple[Entity, str], Entity] = {
    ("event", "parent"): "event",
    ("event", "children"): "event",
    ("event", "channel"): "channel",
    ("event", "workspace"): "workspace",
    ("channel", "workspace"): "workspace",
    ("channel", "events"): "event",
}


def compile_related(
    f: Related, entity: Entity, table: FromClause, scope: ReadScope
) -> ColumnElement[bool]:
    """``EXISTS`` (or its negation for ``none``/``every``) for one relation filter."""
    from db.query.filter_sql import UnsupportedFilterError, compile_filter

    target = _TARGETS.get((entity, f.relation))
    if target is None:
        raise UnsupportedFilterError(f"{entity} has no relation {f.relation!r}")
    if target == "event":
        other = events_table.alias()
        if f.relation == "parent":
            link = other.c.id == table.c.parent_id
        elif f.relation == "children":
            link = other.c.parent_id == table.c.id
        else:
            link = other.c.channel_id == table.c.id
        quantifier = "some" if f.relation == "parent" else (f.quantifier or "some")
        inner = compile_filter(f.filter, "event", other, scope)
        if quantifier == "every":
            inner = not_(inner)
        exists = (
            select(literal(1)).select_from(other).where(link, readable(scope, other), inner)
        ).exists()
        return exists if quantifier == "some" else not_(exists)
    if target == "channel":
        other = channels_table.alias()
        link = other.c.id == table.c.channel_id
    else:
        other = workspaces_table.alias()
        link = other.c.id == table.c.workspace_id
    inner = compile_filter(f.filter, target, other, scope)
    return select(literal(1)).select_from(other).where(and_(link, inner)).exists()
