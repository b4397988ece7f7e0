"""Workspace management (admin only) and the slug rule shared by workspaces and channels."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from app.auth.principal import Principal, require_admin
from app.errors import BadInput, Conflict, NotFound
from app.text import reject_nul
from db.database import Database
from db.repositories import workspaces as workspace_repo
from db.repositories.errors import DuplicateKeyError
from db.repositories.workspaces import WorkspaceRow

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_NAME_LENGTH = 200

__all__ = [
    "WorkspaceRow",
    "create_workspace",
    "get_workspace",
    "slugify",
    "validate_name",
    "validate_slug",
]


def validate_slug(value: str, *, path: str) -> str:
    if not SLUG_RE.fullmatch(value):
        raise BadInput(
            f"{value!r} is not a valid id: 1-64 characters of a-z, 0-9, '_' or '-',"
            " starting with a letter or digit",
            path=path,
        )
    return value


def validate_name(value: str, *, path: str) -> str:
    name = value.strip()
    reject_nul(name, path=path)
    if not name:
        raise BadInput("name must not be empty", path=path)
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"name must be at most {MAX_NAME_LENGTH} characters", path=path)
    return name


def slugify(name: str) -> str:
    """A slug derived from a display name ("My Shop!" -> "my-shop")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56].strip("-")
    return slug or "ws"


async def create_workspace(
    *, db: Database, principal: Principal, id: str | None, name: str
) -> WorkspaceRow:
    """Create a workspace; ``id`` is generated from ``name`` when absent (a suffix keeps it
    unique), an explicit ``id`` already taken is a ``Conflict``."""
    require_admin(principal)
    name = validate_name(name, path="input.name")
    if id is not None:
        validate_slug(id, path="input.id")
    created_at = datetime.now(UTC)
    async with db.transaction() as conn:
        if id is not None:
            try:
                return await workspace_repo.insert_workspace(
                    conn, {"id": id, "name": name, "created_at": created_at}
                )
            except DuplicateKeyError:
                raise Conflict(f"workspace {id!r} already exists", path="input.id") from None
        base = slugify(name)
        candidate = base
        for _ in range(20):
            try:
                return await workspace_repo.insert_workspace(
                    conn, {"id": candidate, "name": name, "created_at": created_at}
                )
            except DuplicateKeyError:
                candidate = f"{base}-{secrets.token_hex(3)}"
    raise Conflict("could not generate a free workspace id; pass one", path="input.id")


async def get_workspace(*, db: Database, principal: Principal, id: str) -> WorkspaceRow:
    """A workspace by id (admin only); ``NotFound`` when missing."""
    require_admin(principal)
    async with db.read() as conn:
        row = await workspace_repo.get_workspace(conn, id)
    if row is None:
        raise NotFound(f"workspace {id!r} not found", path="id")
    return row
