"""Token secrets: generation, hashing and verification into a ``Principal``.

Verified tokens are cached in-process for at most ``CACHE_TTL_SECONDS`` (every request
authenticates, and the lookup is on the hot path). Consequences, by design:

* revoking a token in this process takes effect at once (``forget`` drops the entry);
* revoking it through another process takes effect here within ``CACHE_TTL_SECONDS``;
* expiry is checked on every use, cached or not, so it is exact.

Unknown secrets are never cached, so a token created anywhere works immediately.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from app.auth.principal import ANONYMOUS, Principal
from app.errors import Unauthenticated
from app.settings import Settings
from db.database import Database
from db.repositories import tokens as token_repo
from db.repositories.tokens import TokenRow

SECRET_PREFIX = "eg_"  # noqa: S105 - a public prefix, not a secret
CACHE_TTL_SECONDS = 3.0
CACHE_MAX_ENTRIES = 10_000
_clock = time.monotonic


@dataclass(frozen=True, slots=True)
class _Cached:
    principal: Principal
    expires_at: datetime | None
    fresh_until: float


_caches: weakref.WeakKeyDictionary[Database, dict[str, _Cached]] = weakref.WeakKeyDictionary()


def new_secret() -> str:
    """A fresh opaque secret; only its hash is ever stored."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_for(row: TokenRow) -> Principal:
    """The ``Principal`` a stored token row grants."""
    return Principal(
        kind=row["kind"],
        token_id=row["id"],
        channel_ids=frozenset(row["channel_ids"] or ()),
        workspace_ids=frozenset(row["workspace_ids"] or ()),
        publisher_id=row["publisher_id"],
        publisher_name=row["publisher_name"],
    )


def forget(db: Database, secret_hash: str) -> None:
    """Drop a cached verification (called on revocation)."""
    _caches.get(db, {}).pop(secret_hash, None)


def _is_admin_secret(settings: Settings, secret: str) -> bool:
    if settings.admin_token is None:
        return False
    expected = settings.admin_token.get_secret_value()
    return bool(expected) and hmac.compare_digest(secret.encode(), expected.encode())


async def authenticate(*, db: Database, settings: Settings, secret: str | None) -> Principal:
    """Resolve a raw secret: None -> anonymous; unknown, expired or revoked -> Unauthenticated."""
    if secret is None:
        return ANONYMOUS
    if _is_admin_secret(settings, secret):
        return Principal(kind="admin")
    secret_hash = hash_secret(secret)
    now = datetime.now(UTC)
    cache = _caches.setdefault(db, {})
    cached = cache.get(secret_hash)
    if cached is not None and cached.fresh_until > _clock():
        if cached.expires_at is not None and cached.expires_at <= now:
            raise Unauthenticated("token expired")
        return cached.principal
    async with db.read() as conn:
        row = await token_repo.get_token_by_hash(conn, secret_hash)
    if row is None:
        cache.pop(secret_hash, None)
        raise Unauthenticated("invalid token")
    if row["revoked_at"] is not None:
        cache.pop(secret_hash, None)
        raise Unauthenticated("token revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise Unauthenticated("token expired")
    principal = principal_for(row)
    if len(cache) >= CACHE_MAX_ENTRIES:
        cache.clear()
    cache[secret_hash] = _Cached(principal, row["expires_at"], _clock() + CACHE_TTL_SECONDS)
    return principal
