"""Prometheus instruments on a registry of our own, and the ASGI middleware feeding them.

HTTP series are labelled by route template (``/api/events/{event_id}``), never the raw
path, and GraphQL operation names are truncated and capped, so label cardinality stays
bounded whatever clients send.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import Match, Route
from starlette.types import Scope

from app.observability.histogram import LoopHistogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "eventgraph_http_requests",
    "HTTP requests by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "eventgraph_http_request_duration_seconds",
    "HTTP request latency by route template and method",
    ["route", "method"],
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS = Counter(
    "eventgraph_graphql_operations",
    "GraphQL operations by operation name, type and outcome",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "eventgraph_events_published", "Events stored by publish", registry=REGISTRY
)
PUBLISH_STATEMENTS = Counter(
    "eventgraph_publish_statements",
    "One-statement publish statements sent (PostgreSQL; a statement may carry several publishes)",
    registry=REGISTRY,
)
PUBLISH_JOINED = Counter(
    "eventgraph_publish_joined",
    "Publishes stored by a statement another publish of the same process sent (group commit)",
    registry=REGISTRY,
)
FAST_PATH_SERVED = Counter(
    "eventgraph_fast_path_served",
    "Requests answered by a shortcut path (graphql, rest_list) instead of the general one",
    ["path"],
    registry=REGISTRY,
)
DB_POOL_IN_USE = Gauge(
    "eventgraph_db_pool_connections_in_use",
    "Database connections checked out of the read pool",
    registry=REGISTRY,
)
DB_POOL_SIZE = Gauge(
    "eventgraph_db_pool_size", "Configured size of the read pool", registry=REGISTRY
)
STREAM_SUBSCRIBERS = Gauge(
    "eventgraph_stream_subscribers",
    "Open event streams by transport (websocket = GraphQL subscription, sse)",
    ["transport"],
    registry=REGISTRY,
)
STREAM_FANNED_OUT = Counter(
    "eventgraph_stream_events_fanned_out",
    "Events queued to stream subscribers (one per event and subscriber), by kind",
    ["kind"],
    registry=REGISTRY,
)
STREAM_TAIL_READS = Counter(
    "eventgraph_stream_tail_reads",
    "Batches the realtime tail took, by source: events this process published, kept in"
    " memory (taken by the tail task, or by the publishing request itself: publish), or a"
    " read of the database",
    ["source"],
    registry=REGISTRY,
)
STREAM_TAIL_FROM_MEMORY = STREAM_TAIL_READS.labels("memory")
STREAM_TAIL_FROM_PUBLISH = STREAM_TAIL_READS.labels("publish")
STREAM_TAIL_FROM_DATABASE = STREAM_TAIL_READS.labels("database")
STREAM_SLOW_CONSUMERS = Counter(
    "eventgraph_stream_slow_consumer_disconnects",
    "Streams ended with SLOW_CONSUMER because their queue was full",
    registry=REGISTRY,
)
STREAM_DIRECT = Counter(
    "eventgraph_stream_direct_subscriptions",
    "GraphQL subscriptions whose events are written to the WebSocket as rendered frames,"
    " without executing the selection per event",
    registry=REGISTRY,
)
STREAM_WRITTEN_IN_FAN_OUT = Counter(
    "eventgraph_stream_written_in_fan_out",
    "Subscription events written to the WebSocket by the fan-out itself, without waiting"
    " for the subscription's task",
    registry=REGISTRY,
)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
STREAM_LATENCY = LoopHistogram(  # observed once per delivery
    "eventgraph_stream_delivery_latency_seconds",
    "From an event's createdAt (set in the publishing transaction) to its hand-over to the"
    " subscriber's transport, live events only",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
BUS_CONNECTED = Gauge(
    "eventgraph_bus_connected",
    "1 while the broadcast bus connection is up, by backend",
    ["bus"],
    registry=REGISTRY,
)
BUS_RECONNECTS = Counter(
    "eventgraph_bus_reconnects",
    "Broadcast bus connections re-established after a loss, by backend",
    ["bus"],
    registry=REGISTRY,
)

MAX_OPERATION_NAMES = 200
_MAX_OPERATION_NAME_LENGTH = 64
_seen_operations: set[str] = set()


def record_graphql_operation(
    name: str | None, *, operation_type: str = "query", ok: bool = True
) -> None:
    """Count one GraphQL operation (called by the GraphQL layer's extension)."""
    label = (name or "anonymous")[:_MAX_OPERATION_NAME_LENGTH]
    if label not in _seen_operations:
        if len(_seen_operations) >= MAX_OPERATION_NAMES:
            label = "other"
        else:
            _seen_operations.add(label)
    GRAPHQL_OPERATIONS.labels(label, operation_type, "ok" if ok else "error").inc()


def record_fast_path(path: str) -> None:
    """Count one request served by a shortcut path (``graphql`` or ``rest_list``)."""
    FAST_PATH_SERVED.labels(path).inc()


def set_pool_status(in_use: int, size: int) -> None:
    DB_POOL_IN_USE.set(in_use)
    DB_POOL_SIZE.set(size)


def render_metrics() -> tuple[bytes, str]:
    """The text exposition of every instrument and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _route_template(scope: Scope) -> str:
    """The template of the route that served ``scope``; ``unmatched`` only for a real 404.

    FastAPI routes (and the fast paths answering for them) record themselves in
    ``scope["route"]``; plain Starlette routes (``/openapi.json``, ``/docs``) do not, so they
    are looked up here, a route matching the path but not the method (a 405) included.
    """
    route: Any = scope.get("route")
    if route is None:
        route = _find_route(scope)
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return scope.get("root_path", "") + path if path.startswith("/") else path
    return "unmatched"


def _find_route(scope: Scope) -> Route | None:
    app: Any = scope.get("app")
    partial: Route | None = None
    for route in getattr(app, "routes", ()):
        if not isinstance(route, Route):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def record_http_request(scope: Scope, status: int, started: float) -> None:
    """Count and time one HTTP request (``started`` from ``time.perf_counter()``)."""
    route = _route_template(scope)
    method = str(scope.get("method", "GET"))
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
