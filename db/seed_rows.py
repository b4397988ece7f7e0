"""Seed rows built in Python: the SQLite benchmark dataset (in batches) and the demo data.

The benchmark rows follow the very formulas of the PostgreSQL statement in ``db/seed.py``
(ids, timestamps, types, channels, parents), drawn from a seeded ``random.Random``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

Row = dict[str, Any]

EVENT_TYPES: tuple[str, ...] = (
    "agent.created",
    "payload.list",
    "user.signed_up",
    "message.posted",
    "agent.updated",
    "user.logged_in",
    "payload.created",
    "agent.deleted",
    "channel.created",
    "reaction.added",
    "user.updated",
    "message.edited",
    "file.uploaded",
    "payload.deleted",
    "user.logged_out",
    "reaction.removed",
    "message.deleted",
    "channel.archived",
    "file.deleted",
    "workspace.updated",
)
WORKSPACES = 50
CHANNELS = 200
SPAN_MS = 365 * 24 * 3600 * 1000
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATUSES = ("active", "pending", "done", "failed")


def step_ms(events: int) -> int:
    """Milliseconds between consecutive events so that ``events`` span 365 days."""
    return max(1, SPAN_MS // max(events, 1))


def type_slots() -> list[tuple[int, str]]:
    """(slot limit, type): a slot in [0, 10000) takes the first type whose limit is above it.

    Zipf 1/k weights, so a uniformly random slot gives the skew (``agent.created`` ~28 %).
    """
    harmonic = sum(1.0 / k for k in range(1, len(EVENT_TYPES) + 1))
    limits: list[tuple[int, str]] = []
    cumulative = 0.0
    for k, name in enumerate(EVENT_TYPES, start=1):
        cumulative += (1.0 / k) / harmonic
        limits.append((min(10000, math.ceil(cumulative * 10000)), name))
    limits[-1] = (10000, limits[-1][1])
    return limits


def ulid_like(ms: int, n: int) -> str:
    """Crockford base32 of ``ms`` (10 chars) and 16 upper-case hex chars of md5(n)."""
    head = "".join(CROCKFORD[(ms >> shift) & 31] for shift in range(45, -1, -5))
    return head + hashlib.md5(str(n).encode()).hexdigest()[:16].upper()  # noqa: S324 - not security


def workspace_rows(now: datetime) -> list[Row]:
    start = now - timedelta(days=400)
    return [
        {"id": f"ws_{w:02d}", "name": f"Workspace {w}", "created_at": start + timedelta(hours=w)}
        for w in range(1, WORKSPACES + 1)
    ]


def channel_rows(now: datetime) -> list[Row]:
    start = now - timedelta(days=390)
    return [
        {
            "id": f"ch_{c:03d}",
            "name": f"channel-{c}",
            "workspace_id": f"ws_{(c - 1) % WORKSPACES + 1:02d}",
            "private": c % 7 == 0,
            "strict_types": False,
            "schemas": {},
            "created_at": start + timedelta(hours=c),
        }
        for c in range(1, CHANNELS + 1)
    ]


def event_batches(events: int, now: datetime, batch: int = 5000) -> Iterator[list[Row]]:
    """The benchmark events in ``seq`` order, ``batch`` rows at a time."""
    rng = random.Random(42)
    slots = type_slots()
    step = step_ms(events)
    base_ms = int(now.timestamp() * 1000) - SPAN_MS

    def ms_of(n: int) -> int:
        return base_ms + (n - 1) * step + (n * 7919) % step

    def type_of(slot: int) -> str:
        return next(name for limit, name in slots if slot < limit)

    rows: list[Row] = []
    for n in range(1, events + 1):
        r1, r2, r3, r4, r5 = (rng.random() for _ in range(5))
        ch = 1 + math.floor(r2**1.5 * CHANNELS)
        parent_n = 1 + math.floor(r5 * (n - 1))
        ms = ms_of(n)
        rows.append(
            {
                "id": ulid_like(ms, n),
                "seq": n,
                "type": type_of(math.floor(r1 * 10000)),
                "channel_id": f"ch_{ch:03d}",
                "workspace_id": f"ws_{(ch - 1) % WORKSPACES + 1:02d}",
                "subject_id": f"subj_{1 + math.floor(r3 * 10000):05d}",
                "user_id": f"user_{1 + math.floor(rng.random() * 1000):04d}",
                "parent_id": ulid_like(ms_of(parent_n), parent_n) if r4 < 0.10 and n > 1 else None,
                "publisher_id": f"pub_{n % 25}",
                "publisher_name": f"Publisher {n % 25}",
                "data": {
                    "name": f"item-{n}",
                    "status": STATUSES[n % 4],
                    "count": round(r3 * 1000),
                    "score": round(r1 * 100, 3),
                    "tags": [f"t{n % 13}", f"t{n % 7}", f"t{n % 3}"],
                    "note": _md5(str(n)) + _md5(str(n + 1)),
                    "flags": {"a": n % 2 == 0, "b": n % 3 == 0},
                },
                "meta": {"source": "seed", "version": 1, "ip": f"10.0.{n % 256}.{n % 251}"},
                "created_at": datetime.fromtimestamp(ms // 1000, UTC)
                + timedelta(milliseconds=ms % 1000),
            }
        )
        if len(rows) == batch:
            yield rows
            rows = []
    if rows:
        yield rows


def _md5(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()  # noqa: S324 - not security


DEMO_WORKSPACE = "demo"


def demo_rows(now: datetime) -> tuple[Row, list[Row], list[Row]]:
    """A demo workspace, three channels (one private) and a short, readable story of events.

    Events come without ``seq``; the caller assigns commit positions.
    """
    workspace = {"id": DEMO_WORKSPACE, "name": "Demo workspace", "created_at": now}

    def channel(slug: str, name: str, *, private: bool = False) -> Row:
        return {
            "id": slug,
            "name": name,
            "workspace_id": DEMO_WORKSPACE,
            "private": private,
            "strict_types": False,
            "schemas": {},
            "created_at": now,
        }

    channels = [
        channel("general", "General"),
        channel("deploys", "Deploys"),
        channel("ops-private", "Ops (private)", private=True),
    ]
    story: list[tuple[str, str, str | None, Row]] = [
        ("general", "user.signed_up", None, {"name": "Ada", "plan": "free"}),
        ("general", "message.posted", None, {"text": "Hello, Eventgraph!"}),
        ("general", "reaction.added", "message.posted", {"emoji": "wave"}),
        ("deploys", "deploy.started", None, {"service": "api", "version": "1.4.0"}),
        ("deploys", "deploy.finished", "deploy.started", {"service": "api", "ok": True}),
        ("ops-private", "alert.raised", None, {"severity": "warning", "check": "disk"}),
        ("ops-private", "alert.resolved", "alert.raised", {"check": "disk"}),
        ("general", "message.posted", None, {"text": "Try the filters in GraphiQL at /graphql"}),
    ]
    events: list[Row] = []
    by_type: dict[str, str] = {}
    start = now - timedelta(minutes=len(story))
    for i, (slug, kind, parent_kind, data) in enumerate(story):
        created = start + timedelta(minutes=i)
        event_id = str(ULID.from_datetime(created))
        events.append(
            {
                "id": event_id,
                "type": kind,
                "channel_id": slug,
                "workspace_id": DEMO_WORKSPACE,
                "subject_id": "user_ada" if slug == "general" else f"svc_{slug}",
                "user_id": "user_ada",
                "parent_id": by_type.get(parent_kind) if parent_kind else None,
                "publisher_id": "demo",
                "publisher_name": "Demo seed",
                "data": data,
                "meta": {"source": "demo"},
                "created_at": created,
            }
        )
        by_type.setdefault(kind, event_id)
    return workspace, channels, events
