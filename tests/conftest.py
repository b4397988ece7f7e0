"""Shared fixtures. ``--db sqlite|postgresql`` picks the database the whole suite runs on;
``--broadcast default|redis`` the realtime bus (default: memory on SQLite, LISTEN/NOTIFY on
PostgreSQL)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

# Every app a test starts, in-process or as a server process, opens its connections when
# it needs them: a short-lived app warming 16 would fork 16 backends per test, and its
# background rehearsed publish (``Database.warm``) would land among the statements a test
# counts. tests/db/test_pool_warm.py turns warming on where it tests it.
os.environ.setdefault("EVENTGRAPH_DB_WARM_CONNECTIONS", "0")

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.app",
    "tests.fixtures.server",
    "tests.fixtures.servers",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database the suite runs against (CI runs both)",
    )
    parser.addoption(
        "--broadcast",
        choices=["default", "redis"],
        default=os.environ.get("EVENTGRAPH_TEST_BROADCAST", "default"),
        help="realtime bus of the servers under test (CI runs the realtime tests with both)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """With ``--broadcast redis``, a missing Redis fails the run; nothing is skipped."""
    if config.getoption("--broadcast") != "redis":
        return
    from tests.fixtures.servers import redis_url

    url = urlparse(redis_url())
    try:
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), 3).close()
    except OSError as exc:
        message = f"--broadcast redis: Redis unreachable at {redis_url()}: {exc}"
        raise pytest.UsageError(message) from exc
