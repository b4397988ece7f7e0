"""``eventgraph serve --workers N`` needs PostgreSQL (docs/realtime.md, "Several processes")."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli.main import cli


def test_workers_on_sqlite_are_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTGRAPH_DATABASE_URL", "sqlite+aiosqlite:///./never-created.db")
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers needs PostgreSQL" in result.output
