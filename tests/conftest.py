"""Shared fixtures. ``--db sqlite|postgresql`` picks the database the whole suite runs on."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.app", "tests.fixtures.live_server"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database the suite runs against (CI runs both)",
    )
