"""Delivery and attempt ids: ULIDs that share a generated head and end in a serial number.

A generated ULID costs tens of microseconds, and a thousand of them per published batch of
100 with 10 webhooks was most of the expansion's time in Python; so one is generated per
``SERIALS`` ids and its last 20 random bits are replaced by a serial number. A range
(``app.webhooks.ranges``) stores only its head: its n-th delivery's id is
``serial_id(head, n)``.
"""

from __future__ import annotations

import os
import time

from ulid import ULID

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # the ULID alphabet
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits per pair
SERIALS = 1 << 20  # the last 4 characters of each ULID number the ids sharing its head


def ulid_head() -> str:
    """A new ULID without its last 4 characters (where ``serial_id`` puts the serial)."""
    # Not ``ULID()``: within one millisecond it increments the previous value (it is
    # monotonic), which would give two calls the same head.
    base = ULID.from_bytes((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    return str(base)[:-4]


def message_head() -> str:
    """The head of up to ``SERIALS`` ``webhook-id``s: ``msg_`` and a ``ulid_head``."""
    return f"msg_{ulid_head()}"


def serial_id(head: str, serial: int) -> str:
    """The id numbered ``serial`` (0 <= serial < SERIALS) under ``head``."""
    return f"{head}{_PAIRS[serial >> 10]}{_PAIRS[serial & 1023]}"


def new_ulids(count: int) -> list[str]:
    """``count`` distinct ULIDs."""
    ids: list[str] = []
    while len(ids) < count:
        head = ulid_head()
        ids.extend(serial_id(head, n) for n in range(min(count - len(ids), SERIALS)))
    return ids


def message_ids(count: int) -> list[str]:
    """``count`` distinct ``webhook-id``s: ``msg_`` and a ULID."""
    return [f"msg_{ulid}" for ulid in new_ulids(count)]
