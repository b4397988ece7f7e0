"""REST shim vs GraphQL: ``GET /api/events?filter=...`` next to the same GraphQL query.

usage: python -m bench.rest_vs_graphql [--smoke] [--duration 10] [--warmup 3]

``/api/events`` always returns ``pageInfo.total``, so each REST request is compared with
the GraphQL query that does the same work: 50 events with every scalar field, pageInfo and
``totalCount``. Both run against the same ``eventgraph serve --workers 2`` in the same run,
measured with wrk (16 connections, 2 threads); the ratio REST/GraphQL shows what the shim
costs (or saves) on top of one query path.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench import common, queries

TOTAL_FIELDS = f"totalCount nodes {{ {queries.FIELDS} }} pageInfo {{ hasNextPage endCursor }}"
Q3_FILTER = {
    "OR": [
        {"type": {"in": queries.Q3_VARS["types"]}},
        {"AND": [{"workspaceId": {"eq": "ws_07"}}, {"NOT": {"userId": {"eq": "user_0042"}}}]},
    ],
    "parent": {"type": {"eq": "agent.created"}},
}
Q3_ORDER = [{"createdAt": "desc_nulls_last"}, {"id": "asc"}]


def cases() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """name -> (GraphQL body, REST query parameters)."""
    since = queries._iso(queries.since())
    q2_filter = {"type": {"eq": "agent.deleted"}, "createdAt": {"gte": since}}
    return {
        "list": (
            {"query": f"{{ events(first: 50) {{ {TOTAL_FIELDS} }} }}"},
            {"limit": "50"},
        ),
        "filter": (
            {
                "query": "query($f: EventFilter) { events(first: 50, filter: $f) {"
                f" {TOTAL_FIELDS} }} }}",
                "variables": {"f": q2_filter},
            },
            {"limit": "50", "filter": json.dumps(q2_filter)},
        ),
        "q3": (
            {
                "query": "query($f: EventFilter, $o: [EventOrderBy!]) {"
                f" events(first: 50, filter: $f, orderBy: $o) {{ {TOTAL_FIELDS} }} }}",
                "variables": {"f": Q3_FILTER, "o": Q3_ORDER},
            },
            {"limit": "50", "filter": json.dumps(Q3_FILTER), "orderBy": json.dumps(Q3_ORDER)},
        ),
    }


def _wrk_bench() -> Any:
    spec = importlib.util.spec_from_file_location("wrk_bench", common.PERF / "wrk_bench.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {common.PERF / 'wrk_bench.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measure(harness: Any, pid: int, cmd: list[str], duration: int, warmup: int) -> dict[str, Any]:
    subprocess.run([*cmd[:1], f"-d{warmup}s", *cmd[1:]], capture_output=True, check=True)
    c0, t0 = harness.tree_cpu(pid), time.time()
    out = subprocess.run(
        [*cmd[:1], f"-d{duration}s", *cmd[1:]], capture_output=True, text=True, check=True
    ).stdout
    elapsed, c1 = time.time() - t0, harness.tree_cpu(pid)
    result: dict[str, Any] = harness.parse(out)
    result["server_cpu_ms_per_req"] = 1000 * (c1 - c0) / max(result["requests"], 1)
    result["server_cpu_pct"] = 100 * (c1 - c0) / elapsed
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.rest_vs_graphql")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--duration", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    args = parser.parse_args()
    events = 50_000 if args.smoke else 1_000_000
    database = "eventgraph_bench_smoke" if args.smoke else "eventgraph_bench"
    duration = args.duration or (2 if args.smoke else 10)
    warmup = args.warmup if args.warmup is not None else (1 if args.smoke else 3)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    common.ensure_wrk()
    common.prepare_database(database, events)
    harness = _wrk_bench()
    work = Path(tempfile.mkdtemp(prefix="eventgraph-rest-"))
    report: dict[str, Any] = {"events": events, "duration_s": duration, "cases": {}}
    with common.serve(database) as server:
        auth = f"Authorization: Bearer {server.token}"
        os.environ["WRK_AUTH"] = f"Bearer {server.token}"  # post.lua sends it (GraphQL side)
        for name, (body, params) in cases().items():
            body_file = work / f"{name}.json"
            body_file.write_text(json.dumps(body))
            rest_url = f"{server.url}/api/events?{urllib.parse.urlencode(params)}"
            _check_rest(rest_url, server.token)
            queries.post(f"{server.url}/graphql", body, server.token)
            graphql = _measure(
                harness, server.pid,
                ["wrk", "-t2", "-c16", "--latency", "-s", str(common.PERF / "post.lua"),
                 f"{server.url}/graphql", "--", str(body_file)],
                duration, warmup,
            )  # fmt: skip
            rest = _measure(
                harness, server.pid,
                ["wrk", "-t2", "-c16", "--latency", "-H", auth, rest_url],
                duration, warmup,
            )  # fmt: skip
            report["cases"][name] = {
                "graphql": graphql,
                "rest": rest,
                "ratio_rest_vs_graphql": rest["rps"] / graphql["rps"] if graphql["rps"] else None,
            }
            common.log(f"{name}: GraphQL {graphql['rps']:.0f} req/s, REST {rest['rps']:.0f} req/s")
    headers = ["case", "GraphQL req/s", "p50", "p99", "cpu ms/req",
               "REST req/s", "p50", "p99", "cpu ms/req", "REST/GraphQL"]  # fmt: skip
    rows = [
        [name, common.fmt(g["rps"]), common.fmt(g["p50_ms"], 1), common.fmt(g["p99_ms"], 1),
         common.fmt(g["server_cpu_ms_per_req"], 2), common.fmt(r["rps"]),
         common.fmt(r["p50_ms"], 1), common.fmt(r["p99_ms"], 1),
         common.fmt(r["server_cpu_ms_per_req"], 2), common.fmt(c["ratio_rest_vs_graphql"], 2)]
        for name, c in report["cases"].items()
        for g, r in [(c["graphql"], c["rest"])]
    ]  # fmt: skip
    print(f"\nREST /api/events vs GraphQL on {events:,} events (50 rows + total; wrk 16 conns)")
    common.print_table(headers, rows)
    out = common.RESULTS / ("rest_vs_graphql_smoke.json" if args.smoke else "rest_vs_graphql.json")
    out.write_text(json.dumps(report, indent=1))
    common.log(f"wrote {out}")


def _check_rest(url: str, token: str) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        body = json.loads(response.read())
    if len(body.get("data", [])) != 50:
        raise SystemExit(f"{url}: expected 50 events, got {str(body)[:300]}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
