"""Q1-Q6 in Eventgraph's GraphQL form (see ../shared/perf/README.md) and as hand SQL.

The hand-written SQL is the fallback for the asyncpg ceiling when the engine's own SQL
cannot be captured (``bench/ceiling.py`` prefers the statements the engine really sends).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIELDS = (
    "id type channelId workspaceId subjectId userId parentId publisherId publisherName"
    " data meta createdAt"
)
PAGE_INFO = "pageInfo { hasNextPage endCursor }"

Q1 = f"query Q1 {{ events(first: 50) {{ nodes {{ {FIELDS} }} {PAGE_INFO} }} }}"
Q2 = (
    "query Q2($type: String!, $since: DateTime!) { events(first: 50,"
    " filter: {type: {eq: $type}, createdAt: {gte: $since}}) {"
    f" nodes {{ {FIELDS} }} {PAGE_INFO} }} }}"
)
Q3 = (
    "query Q3($types: [String!]!, $ws: ID!, $user: ID!, $parentType: String!) {"
    " events(first: 50,"
    " filter: {OR: [{type: {in: $types}},"
    " {AND: [{workspaceId: {eq: $ws}}, {NOT: {userId: {eq: $user}}}]}],"
    " parent: {type: {eq: $parentType}}},"
    " orderBy: [{createdAt: desc_nulls_last}, {id: asc}]) {"
    f" nodes {{ {FIELDS} }} {PAGE_INFO} }} }}"
)
Q4 = (
    "query Q4($after: String!) { events(first: 50, after: $after) {"
    f" nodes {{ {FIELDS} }} {PAGE_INFO} }} }}"
)
Q5 = f"query Q5 {{ events(first: 50) {{ totalCount nodes {{ {FIELDS} }} {PAGE_INFO} }} }}"
Q6 = (
    "query Q6 { events(first: 50) { nodes {"
    f" {FIELDS} parent {{ id type }} channel {{ id name }} }} {PAGE_INFO} }} }}"
)
Q3_VARS = {
    "types": ["payload.created", "channel.created", "reaction.added"],
    "ws": "ws_07",
    "user": "user_0042",
    "parentType": "agent.created",
}
ALL = ("q1", "q2", "q3", "q4", "q5", "q6")

COLUMNS = (
    "e.id, e.type, e.channel_id, e.workspace_id, e.subject_id, e.user_id, e.parent_id,"
    " e.publisher_id, e.publisher_name, e.data, e.meta, e.created_at"
)
PAGE = f"SELECT {COLUMNS} FROM events e"
NEWEST = "ORDER BY e.created_at DESC, e.id DESC LIMIT 51"


def since() -> datetime:
    return datetime.now(UTC) - timedelta(days=30)


def hand_sql(q4_after: tuple[datetime, str] | None) -> dict[str, list[tuple[str, list[Any]]]]:
    """One admin read per query, as a careful person would write it (51 rows: hasNextPage)."""
    q4_at, q4_id = q4_after or (datetime.now(UTC), "~")
    return {
        "q1": [(f"{PAGE} {NEWEST}", [])],
        "q2": [(f"{PAGE} WHERE e.type = $1 AND e.created_at >= $2 {NEWEST}",
                ["agent.deleted", since()])],
        "q3": [(
            f"{PAGE} WHERE (e.type = ANY($1::text[]) OR (e.workspace_id = $2"
            " AND e.user_id IS DISTINCT FROM $3))"
            " AND EXISTS (SELECT 1 FROM events p WHERE p.id = e.parent_id AND p.type = $4)"
            " ORDER BY e.created_at DESC, e.id ASC LIMIT 51",
            [Q3_VARS["types"], Q3_VARS["ws"], Q3_VARS["user"], Q3_VARS["parentType"]],
        )],
        "q4": [(f"{PAGE} WHERE (e.created_at, e.id) < ($1, $2) {NEWEST}", [q4_at, q4_id])],
        "q5": [(f"{PAGE} {NEWEST}", []), ("SELECT count(*) FROM events", [])],
        "q6": [
            (f"{PAGE} {NEWEST}", []),
            ("SELECT id, type FROM events WHERE id = ANY($1::text[])", [[]]),
            ("SELECT id, name FROM channels WHERE id = ANY($1::text[])", [[]]),
        ],
    }  # fmt: skip


def post(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - local http URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
    if result.get("errors"):
        raise RuntimeError(f"GraphQL errors: {result['errors']}")
    return result


def bodies(url: str, token: str) -> dict[str, dict[str, Any]]:
    """The POST bodies; Q4 takes the endCursor of Q1 from the running server."""
    page1 = post(url, {"query": Q1}, token)
    cursor = page1["data"]["events"]["pageInfo"]["endCursor"]
    return {
        "q1": {"query": Q1},
        "q2": {"query": Q2, "variables": {"type": "agent.deleted", "since": _iso(since())}},
        "q3": {"query": Q3, "variables": Q3_VARS},
        "q4": {"query": Q4, "variables": {"after": cursor}},
        "q5": {"query": Q5},
        "q6": {"query": Q6},
    }


def write_bodies(directory: Path, all_bodies: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in all_bodies.items():
        (directory / f"{name}.json").write_text(json.dumps(body))


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
