"""Standard Webhooks signatures, made by the ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


def new_secret() -> str:
    """A fresh ``whsec_`` secret: 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    """The library's signer keeps the decoded key: decode each secret once, not per send."""
    return Webhook(secret)


def signed_headers(
    *, message_id: str, timestamp: datetime, body: str, secrets_: Sequence[str]
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` for ``body``.

    Every secret in ``secrets_`` signs (space-separated ``v1,...`` entries), so receivers
    holding either the old or the new secret verify during a rotation.
    """
    signatures = [_signer(s).sign(message_id, timestamp, body) for s in secrets_]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
