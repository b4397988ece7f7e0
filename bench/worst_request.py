"""The most expensive single requests a client can build within the limits, one at a time.

    ./dev bench worst [--smoke] [--events 50000] [--repeat 3] [--no-budgets] [--code DIR]
        [--timeout 120]            (or .venv/bin/python -m bench.worst_request ...)

Each request stays inside every documented limit (page size 100, 30 aliases, filters of
10 levels and 200 leaves, `in` lists of 500, the request cost budget) and asks for rows
that do not exist, so every statement scans the whole table. The server is
``eventgraph serve --workers 1`` on a seeded PostgreSQL database (``eventgraph seed``:
``--events`` events, 50,000 by default; ``--smoke``: 5,000 and one repeat). For each
request the table shows the status (and error code), the median wall time and the median
CPU seconds of the server process; the database's own time is the rest of the wall time.

``--no-budgets`` turns the statement time budget off and raises the cost budget out of
reach, which shows what the budgets bound. ``--code DIR`` serves another checkout of the
code (``git worktree add``) with this checkout's environment, to measure a commit before
a change. Writes ``bench/results/worst_request.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.cli.launch import launched
from bench.common import (
    RESULTS,
    fmt,
    log,
    prepare_database,
    print_table,
    sqlalchemy_url,
)
from bench.memory import tree_cpu_seconds

SMOKE_EVENTS = 5_000
LEAVES = 199  # 200 leaves at most: the OR itself is one


@dataclass(frozen=True)
class Attack:
    name: str
    what: str
    path: str
    body: dict[str, Any] | None = None  # a GraphQL request (POST), else a GET


def _or(leaf: Any, count: int = LEAVES) -> dict[str, Any]:
    return {"OR": [leaf(i) for i in range(count)]}


def _ilike(i: int) -> dict[str, Any]:
    return {"type": {"ilike": f"%no-such-type-{i}%"}}


def _contains(i: int) -> dict[str, Any]:
    return {"data": {"contains": {f"no-such-key-{i}": i}}}


def _data_path(i: int) -> dict[str, Any]:
    return {"data": {"path": {"path": [f"no-such-key-{i}"], "eq": i}}}


def _in_list(i: int) -> dict[str, Any]:
    return {"type": {"in": [f"no-such-type-{i}-{j}" for j in range(500)]}}


def _short_in(i: int) -> dict[str, Any]:
    return {"type": {"in": [f"{i}{j}" for j in range(500)]}}


def _deep(depth: int) -> dict[str, Any]:
    """NOTs around an OR of ilike leaves: ``depth`` levels above the leaves."""
    node: dict[str, Any] = _or(_ilike)
    for _ in range(depth - 1):
        node = {"NOT": node}
    return node


def _children(depth: int) -> dict[str, Any]:
    """Relation filters nested ``depth`` levels: each one a correlated subquery."""
    node: dict[str, Any] = _or(_ilike, 20)
    for _ in range(depth - 1):
        node = {"children": {"some": node}}
    return node


def _graphql(
    filter_: dict[str, Any], first: int, aliases: int = 1, fields: str = "nodes { id }"
) -> dict[str, Any]:
    selections = " ".join(
        f"a{n}: events(first: {first}, filter: $f) {{ {fields} }}" for n in range(aliases)
    )
    return {"query": f"query($f: EventFilter) {{ {selections} }}", "variables": {"f": filter_}}


ATTACKS = [
    Attack(
        "gql_ilike",
        "events(first: 50), OR of 199 ilike (cost 49,800)",
        "/graphql",
        _graphql(_or(_ilike), 50),
    ),
    Attack(
        "gql_ilike_x30",
        "30 aliases of events(first: 1), OR of 199 ilike (cost 29,880 at one row each)",
        "/graphql",
        _graphql(_or(_ilike), 1, aliases=30),
    ),
    Attack(
        "gql_ilike_x2",
        "2 aliases of events(first: 20), OR of 199 ilike (cost 39,840)",
        "/graphql",
        _graphql(_or(_ilike), 20, aliases=2),
    ),
    Attack(
        "gql_contains",
        "events(first: 20), OR of 199 data.contains (cost 39,820)",
        "/graphql",
        _graphql(_or(_contains), 20),
    ),
    Attack(
        "gql_contains_x9",
        "9 aliases of events(first: 1), OR of 25 data.contains (cost 45,180 charged 20 rows)",
        "/graphql",
        _graphql(_or(_contains, 25), 1, aliases=9),
    ),
    Attack(
        "gql_contains_x25",
        "25 aliases of events(first: 1), OR of 199 data.contains (cost 49,775 at one row each)",
        "/graphql",
        _graphql(_or(_contains), 1, aliases=25),
    ),
    Attack(
        "gql_path_x25",
        "25 aliases of events(first: 1), OR of 199 data.path.eq (cost 49,775 at one row each)",
        "/graphql",
        _graphql(_or(_data_path), 1, aliases=25),
    ),
    Attack(
        "gql_deep",
        "events(first: 50), 8 NOT around an OR of 199 ilike (10 levels)",
        "/graphql",
        _graphql(_deep(9), 50),
    ),
    Attack(
        "gql_children",
        "events(first: 100), children.some nested 8 deep, OR of 20 ilike (10 levels)",
        "/graphql",
        _graphql(_children(9), 100),
    ),
    Attack(
        "gql_in_lists",
        "events(first: 100), OR of 10 `in` lists of 500 (5,000 values, the most)",
        "/graphql",
        _graphql(_or(_in_list, 10), 100),
    ),
    Attack(
        "gql_count",
        "events(first: 20) { totalCount }, OR of 199 data.contains",
        "/graphql",
        _graphql(_or(_contains), 20, fields="totalCount nodes { id }"),
    ),
    Attack(
        "rest_ilike",
        "GET /api/events?limit=100, OR of 99 ilike (cost 49,600)",
        "/api/events?" + urlencode({"limit": 100, "filter": json.dumps(_or(_ilike, 99))}),
    ),
    Attack(
        "rest_in_lists",
        "GET /api/events?limit=100, OR of 4 `in` lists of 500 (the 32 KB query string)",
        "/api/events?" + urlencode({"limit": 100, "filter": json.dumps(_or(_short_in, 4))}),
    ),
    Attack("rest_page", "GET /api/events?limit=100", "/api/events?limit=100"),
    Attack(
        "rest_export",
        "GET /api/events/export.ndjson, OR of 99 ilike (cost 49,600)",
        "/api/events/export.ndjson?" + urlencode({"filter": json.dumps(_or(_ilike, 99))}),
    ),
]


@contextmanager
def _server(database: str, code: str | None, budgets: bool) -> Iterator[tuple[str, str, int]]:
    token = "worst-request-bench-token"
    env = {
        "EVENTGRAPH_DATABASE_URL": sqlalchemy_url(database),
        "EVENTGRAPH_ADMIN_TOKEN": token,
        "EVENTGRAPH_LOG_LEVEL": "WARNING",
    }
    if code:
        env["PYTHONPATH"] = code  # ahead of this checkout's editable install
    if not budgets:
        env["EVENTGRAPH_STATEMENT_TIMEOUT_MS"] = "0"
        env["EVENTGRAPH_MAX_REQUEST_COST"] = str(10**15)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with launched(env, log=RESULTS / "serve.log", args=["--workers", "1"]) as server:
        yield server.base, token, server.process.pid


def _send(base: str, token: str, attack: Attack, timeout: float) -> tuple[str, int]:
    """(status and error code, bytes received)."""
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if attack.body is not None:
        data = json.dumps(attack.body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + attack.path, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    except TimeoutError:
        return f"timeout>{timeout:.0f}s", 0
    return f"{status} {_code(body)}".strip(), len(body)


def _code(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""  # NDJSON
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return str(parsed["error"].get("code", ""))
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if errors:
        return str((errors[0].get("extensions") or {}).get("code", ""))
    return ""


def measure(
    base: str, token: str, pid: int, repeat: int, timeout: float, only: set[str] | None
) -> list[dict[str, Any]]:
    results = []
    for attack in ATTACKS:
        if only is not None and attack.name not in only:
            continue
        walls, cpus, outcome, size = [], [], "", 0
        for _ in range(repeat):
            cpu_before, started = tree_cpu_seconds(pid), time.monotonic()
            outcome, size = _send(base, token, attack, timeout)
            walls.append(time.monotonic() - started)
            cpus.append(tree_cpu_seconds(pid) - cpu_before)
        results.append(
            {
                "name": attack.name,
                "what": attack.what,
                "outcome": outcome,
                "bytes": size,
                "wall_s": statistics.median(walls),
                "server_cpu_s": statistics.median(cpus),
            }
        )
        log(f"{attack.name}: {outcome}, {statistics.median(walls):.2f} s")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.worst_request", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="5,000 events, one repeat")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout (s)")
    parser.add_argument("--no-budgets", action="store_true", help="statement and cost budgets off")
    parser.add_argument("--code", default=None, help="serve the code of this checkout")
    parser.add_argument("--only", default=None, help="comma-separated request names")
    args = parser.parse_args(argv)
    events = args.events or (SMOKE_EVENTS if args.smoke else 50_000)
    repeat = args.repeat or (1 if args.smoke else 3)
    database = f"eventgraph_worst_{events}"
    prepare_database(database, events)
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[:3]
    with _server(database, args.code, budgets=not args.no_budgets) as (base, token, pid):
        chosen = set(args.only.split(",")) if args.only else None
        results = measure(base, token, pid, repeat, args.timeout, chosen)
    headers = ["request", "answer", "wall s", "server CPU s", "bytes"]
    rows = [
        [r["name"], r["outcome"], fmt(r["wall_s"], 2), fmt(r["server_cpu_s"], 2), fmt(r["bytes"])]
        for r in results
    ]
    print(f"{events:,} events, budgets {'off' if args.no_budgets else 'on'}, load {load}")
    print_table(headers, rows)
    out = RESULTS / "worst_request.json"
    out.write_text(json.dumps({"events": events, "load": load, "results": results}, indent=2))


if __name__ == "__main__":
    main()
